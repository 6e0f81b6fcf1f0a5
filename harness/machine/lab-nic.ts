import { CommandFailedError } from '../exec/command-result.ts';
import type { GuestShell } from '../remote/guest-shell.ts';

/**
 * The guest's end of the lab wire on a machine the lab did not build: the NIC
 * is found by the MAC the provider gave it (eth1, ens4, enp0s4 — every distro
 * names it its own way), then given the lab address. The lab's own images
 * configure it themselves (ifupdown); a foreign image knows nothing of the lab,
 * so the harness does it after every boot, as lab plumbing rather than as a
 * step of the guide (the guide's VIPs are what must survive a reboot).
 */
export async function findInterfaceByMac(guest: GuestShell, mac: string): Promise<string> {
  const links = await guest.check('ip -o link show');
  const wanted = mac.toLowerCase();
  for (const line of links.stdout.split('\n')) {
    // "3: ens4: <BROADCAST,...> mtu 1500 ... link/ether 52:54:00:00:02:0a brd ff:ff:ff:ff:ff:ff"
    const match = /^\d+:\s+([^:@\s]+)[^\n]*link\/ether\s+([0-9a-f:]{17})/i.exec(line);
    if (match && match[2]!.toLowerCase() === wanted) return match[1]!;
  }
  throw new Error(`no interface with MAC ${mac} in the guest (ip -o link show):\n${links.stdout.trim()}`);
}

/** Brings the lab NIC up with `address/24`, IPv6 off until a scenario asks (LAB-NOTES: a quiet wire). */
export async function configureLabInterface(guest: GuestShell, nic: string, address: string): Promise<void> {
  const result = await guest.run(
    `echo 1 > /proc/sys/net/ipv6/conf/${nic}/disable_ipv6; ip addr replace ${address}/24 dev ${nic} && ip link set ${nic} up`,
  );
  if (result.exitCode !== 0) throw new CommandFailedError(result);
}
