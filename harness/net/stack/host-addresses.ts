import { ipFamilyOf, normalizeIpAddress, type IpFamily } from '../codec/address.ts';
import { ALL_NODES_ADDRESS, ipv6MulticastMac, solicitedNodeAddress } from '../codec/ipv6.ts';
import type { MacAddress } from '../codec/mac.ts';

/**
 * The IP addresses one host answers for, both families, and what follows from them on the
 * link: the IPv6 multicast groups it must listen to (all-nodes, and the solicited-node group of
 * each of its addresses — where Neighbor Solicitations and DAD probes for it are sent) and the
 * Ethernet addresses those groups map to.
 *
 * The set can change while the host runs: a DSR balancer plays simulated clients and takes
 * their addresses on for as long as it needs them.
 */
export class HostAddresses {
  private readonly addresses = new Set<string>();
  private readonly primary: Record<IpFamily, string | undefined> = { 4: undefined, 6: undefined };
  private multicastGroups = new Set<string>();
  private multicastMacs = new Set<MacAddress>();

  constructor(initial: Iterable<string>) {
    for (const address of initial) this.add(address);
  }

  /** Takes `address` on (any text form; kept normalised). Returns false if it was already ours. */
  add(address: string): boolean {
    const normalized = normalizeIpAddress(address);
    if (this.addresses.has(normalized)) return false;
    this.addresses.add(normalized);
    const family = ipFamilyOf(normalized);
    this.primary[family] ??= normalized;
    if (family === 6) this.recomputeMulticast();
    return true;
  }

  /** Gives `address` up. Returns false if it was not ours. */
  remove(address: string): boolean {
    const normalized = normalizeIpAddress(address);
    if (!this.addresses.delete(normalized)) return false;
    const family = ipFamilyOf(normalized);
    if (this.primary[family] === normalized) this.primary[family] = this.list().find((a) => ipFamilyOf(a) === family);
    if (family === 6) this.recomputeMulticast();
    return true;
  }

  /** `address` must already be normalised (as every address read off the wire is). */
  has(address: string): boolean {
    return this.addresses.has(address);
  }

  /** The default source address for `family`: the first address of that family the host got. */
  defaultFor(family: IpFamily): string | undefined {
    return this.primary[family];
  }

  list(): string[] {
    return [...this.addresses];
  }

  get size(): number {
    return this.addresses.size;
  }

  /** An IPv6 multicast group this host has joined (all-nodes, or one of its solicited-node groups). */
  inMulticastGroup(group: string): boolean {
    return this.multicastGroups.has(group);
  }

  /** Whether frames sent to this Ethernet multicast address are for us. */
  acceptsMulticastMac(mac: MacAddress): boolean {
    return this.multicastMacs.has(mac);
  }

  /** For error messages: "192.0.2.2, 2001:db8::2" (the first few of a long list). */
  describe(): string {
    const list = this.list();
    return list.length <= 4 ? list.join(', ') : `${list.slice(0, 4).join(', ')} and ${list.length - 4} more`;
  }

  private recomputeMulticast(): void {
    const v6 = this.list().filter((a) => ipFamilyOf(a) === 6);
    this.multicastGroups = new Set(v6.length > 0 ? [ALL_NODES_ADDRESS, ...v6.map(solicitedNodeAddress)] : []);
    this.multicastMacs = new Set([...this.multicastGroups].map(ipv6MulticastMac));
  }
}
