import type { NetworkHost } from '../net/index.ts';
import type { GuestShell } from '../remote/guest-shell.ts';
import { BALANCER_IPV6, GUEST_IPV6 } from '../machine/lab-wire-host.ts';

/**
 * IPv6 on the lab wire for the scenarios that need it: the guest gets
 * GUEST_IPV6 on its lab interface, the harness's host BALANCER_IPV6.
 * Duplicate address detection is switched off rather than waited for
 * (busybox's `ip` has no `nodad`), so the address is usable at once.
 */
export async function enableLabIpv6(guest: GuestShell, host: NetworkHost, nic: string): Promise<void> {
  host.addAddress(BALANCER_IPV6);
  const conf = `/proc/sys/net/ipv6/conf/${nic}`;
  await guest.check(
    `echo 0 > ${conf}/accept_dad && echo 0 > ${conf}/disable_ipv6 && ` +
      `(ip -6 addr show dev ${nic} | grep -q ${GUEST_IPV6} || ip -6 addr add ${GUEST_IPV6}/64 dev ${nic})`,
  );
}

/**
 * Takes the lab addresses away again. `switchOff`: IPv6 goes off on the
 * interface too (micro-VMs start with it off, to keep the wire quiet); a
 * full OS booted with IPv6 on and keeps it, losing only the lab address.
 */
export async function disableLabIpv6(guest: GuestShell, host: NetworkHost, nic: string, switchOff: boolean): Promise<void> {
  await guest.check(
    switchOff ? `echo 1 > /proc/sys/net/ipv6/conf/${nic}/disable_ipv6` : `ip -6 addr del ${GUEST_IPV6}/64 dev ${nic} 2>/dev/null || true`,
  );
  host.removeAddress(BALANCER_IPV6);
}
