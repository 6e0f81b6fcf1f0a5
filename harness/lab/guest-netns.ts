import type { GuestShell } from '../remote/guest-shell.ts';

/**
 * A network namespace in the guest reached over a veth pair, as a container's socket is: a
 * process holds the namespace (`unshare -n sleep`), one end of the pair (toa-n0) goes into it
 * with a /32 address from the lab segment, the other (toa-h0) stays in the guest's own namespace
 * with a host route to that address. The guest routes between its lab NIC and the pair and
 * answers ARP for the address on the lab wire (proxy ARP, both ways), so the balancer reaches
 * the namespace as if it were one more host on the segment — a routed container network, no NAT,
 * no bridge, and nothing but busybox's `ip`, `unshare` and `nsenter` (or util-linux's and
 * iproute2's on a whole OS) and the kernel's veth.
 */
export interface GuestNetns {
  /** The process holding the namespace: `nsenter -t PID -n` enters it. */
  readonly holderPid: number;
  /** The namespace's address on the lab segment. */
  readonly address: string;
  /** Runs a command in the namespace (its prefix, for BackendServer.runIn). */
  readonly enter: readonly string[];
  /** Whether a process runs in this namespace rather than the guest's own (its /proc/PID/ns/net). */
  holds(pid: number): Promise<{ inside: boolean; evidence: string }>;
  /** Removes the pair and ends the holder (the namespace goes with it); puts the sysctls back. */
  remove(): Promise<void>;
}

const HOST_END = 'toa-h0';
const NS_END = 'toa-n0';

/** What the guest lacks for a namespace behind a veth pair, in words, or undefined when it has it all. */
export async function netnsUnavailable(guest: GuestShell): Promise<string | undefined> {
  const probe = await guest.run(
    'for t in unshare nsenter ip; do command -v $t >/dev/null 2>&1 || exit 3; done; ' +
      '[ -d /sys/module/veth ] || modprobe veth >/dev/null 2>&1 || exit 4',
  );
  if (probe.exitCode === 3) return 'the guest has no unshare, nsenter or ip in its PATH (util-linux/iproute2, or busybox)';
  if (probe.exitCode === 4) return "the guest's kernel has no veth: /sys/module/veth is absent and `modprobe veth` failed (CONFIG_VETH)";
  return undefined;
}

export async function createGuestNetns(guest: GuestShell, options: { labInterface: string; address: string }): Promise<GuestNetns> {
  const nic = options.labInterface;
  const sysctls = [
    '/proc/sys/net/ipv4/ip_forward',
    `/proc/sys/net/ipv4/conf/${nic}/proxy_arp`,
    `/proc/sys/net/ipv4/neigh/${nic}/proxy_delay`,
  ];
  const saved = (await guest.check(`cat ${sysctls.join(' ')}`)).stdout.trim().split(/\s+/);
  const holder = await guest.check('unshare -n sleep 100000 </dev/null >/dev/null 2>&1 & echo $!');
  const holderPid = Number(holder.stdout.trim());
  if (!Number.isInteger(holderPid) || holderPid <= 0) throw new Error(`unshare -n gave no pid: ${holder.stdout}`);
  const netns: GuestNetns = {
    holderPid,
    address: options.address,
    enter: ['nsenter', '-t', String(holderPid), '-n'],
    async holds(pid) {
      const links = (await guest.run(`readlink /proc/${pid}/ns/net; readlink /proc/$$/ns/net`)).stdout.trim().split('\n');
      const [mine, guests] = links;
      return { inside: !!mine && !!guests && mine !== guests, evidence: `/proc/${pid}/ns/net → ${mine ?? '?'}; the guest shell's /proc/$$/ns/net → ${guests ?? '?'}` };
    },
    async remove() {
      // Deleting one end deletes the pair (and the host route with it); the namespace ends with its holder.
      await guest.run(`ip link del ${HOST_END} 2>/dev/null; kill ${holderPid} 2>/dev/null`);
      await guest.run(sysctls.map((path, i) => (saved[i] === undefined ? '' : `echo ${saved[i]} > ${path}`)).filter(Boolean).join('; '));
    },
  };
  try {
    // One command: each round trip to a TCG guest costs. Busybox's `ip link add … type veth` takes
    // no peer name (the kernel calls it vethN), so the peer is found by its ifindex and renamed.
    await guest.check(
      [
        'set -e',
        `i=0; while [ "$(readlink /proc/${holderPid}/ns/net)" = "$(readlink /proc/$$/ns/net)" ]; do i=$((i+1)); [ $i -lt 50 ]; sleep 0.1; done`,
        `ip link del ${HOST_END} 2>/dev/null || true`,
        `ip link add ${HOST_END} type veth`,
        `peer_index=$(cat /sys/class/net/${HOST_END}/iflink)`,
        'peer=; for d in /sys/class/net/*; do if [ "$(cat $d/ifindex 2>/dev/null)" = "$peer_index" ]; then peer=${d##*/}; fi; done; [ -n "$peer" ]',
        `ip link set "$peer" name ${NS_END}`,
        `ip link set ${NS_END} netns ${holderPid}`,
        `ip link set ${HOST_END} up`,
        `ip route add ${options.address}/32 dev ${HOST_END}`,
        'echo 1 > /proc/sys/net/ipv4/ip_forward',
        // Proxy ARP answers after a random delay of up to proxy_delay (0.8 s) unless told not to wait.
        `for d in ${nic} ${HOST_END}; do echo 1 > /proc/sys/net/ipv4/conf/$d/proxy_arp; echo 0 > /proc/sys/net/ipv4/neigh/$d/proxy_delay; done`,
        `nsenter -t ${holderPid} -n sh -c 'set -e; ip link set lo up; ip link set ${NS_END} up; ip addr add ${options.address}/32 dev ${NS_END}; ip route add default dev ${NS_END}'`,
      ].join('\n'),
      { timeoutMs: 30_000 },
    );
  } catch (error) {
    await netns.remove();
    throw error;
  }
  return netns;
}
