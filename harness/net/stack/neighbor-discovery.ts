import {
  encodeNeighborAdvertisement,
  encodeNeighborSolicitation,
  Icmpv6Type,
  ND_HOP_LIMIT,
  parseNeighborAdvertisement,
  parseNeighborSolicitation,
  type Icmpv6Message,
} from '../codec/icmpv6.ts';
import { ALL_NODES_ADDRESS, ipv6MulticastMac, isIpv6Multicast, solicitedNodeAddress, type Ipv6Packet } from '../codec/ipv6.ts';
import type { MacAddress } from '../codec/mac.ts';
import type { HostAddresses } from './host-addresses.ts';
import { NeighborResolver, type ArpTuning, type NeighborResolutionError } from './neighbor-resolver.ts';

/** What Neighbor Discovery needs from the host it runs on. */
export interface NdpLink {
  readonly mac: MacAddress;
  readonly addresses: HostAddresses;
  /** Sends an ICMPv6 message straight to `destinationMac` (ND never resolves through itself). */
  sendIcmpv6(source: string, destination: string, destinationMac: MacAddress, message: Icmpv6Message, hopLimit: number): void;
  sendFrame(frame: Uint8Array): void;
  onUnreachable(ip: string, error: NeighborResolutionError): void;
}

/** What became of an ND message: used, or why not (the host counts the latter as drops). */
export type NdpVerdict = 'handled' | 'not-for-us' | 'invalid';

const UNSPECIFIED = '::';

/**
 * IPv6's ARP (RFC 4861 §7): the neighbour table for IPv6 and the messages that fill it.
 *
 * - Resolving: Neighbor Solicitation to the target's solicited-node group (Ethernet
 *   33:33:ff:xx:xx:xx) with our MAC attached, repeated per `ArpTuning`; the Advertisement's
 *   target link-layer option (or, if it has none, the frame's source) fills the table.
 * - Answering: a solicitation for one of our addresses gets a solicited Advertisement, sent to
 *   the MAC the solicitation names. A DAD probe (source ::) for one of our addresses is a
 *   neighbour about to take an address we use: it is answered on all-nodes, which makes its
 *   DAD fail rather than leave two hosts with one address.
 * - Learning: like ARP, from every solicitation's source link-layer option too.
 * - Only messages with hop limit 255 and code 0 count (proof they were not routed).
 */
export class NeighborDiscovery {
  readonly table: NeighborResolver;
  /** DAD probes for our addresses that we answered — a guest that tried to take one. */
  dadProbesDefended = 0;

  constructor(
    private readonly link: NdpLink,
    tuning: ArpTuning,
  ) {
    this.table = new NeighborResolver(
      'NDP',
      tuning,
      (target, sender) => this.solicit(target, sender),
      (frame) => link.sendFrame(frame),
      (ip, error) => link.onUnreachable(ip, error),
    );
  }

  receive(packet: Ipv6Packet, message: Icmpv6Message, ethernetSource: MacAddress): NdpVerdict {
    if (packet.hopLimit !== ND_HOP_LIMIT || message.code !== 0) return 'invalid';
    if (message.type === Icmpv6Type.neighborSolicitation) return this.receiveSolicitation(packet, message, ethernetSource);
    return this.receiveAdvertisement(message, ethernetSource);
  }

  /** Asks who has `target`, from our address `source`. */
  solicit(target: string, source: string): void {
    const group = solicitedNodeAddress(target);
    const body = encodeNeighborSolicitation({ target, sourceLinkLayerAddress: this.link.mac });
    this.send(source, group, ipv6MulticastMac(group), Icmpv6Type.neighborSolicitation, body);
  }

  /** Tells the link we hold `address` (unsolicited Advertisement, override set). */
  announce(address: string): void {
    this.advertise(address, ALL_NODES_ADDRESS, ipv6MulticastMac(ALL_NODES_ADDRESS), false);
  }

  private receiveSolicitation(packet: Ipv6Packet, message: Icmpv6Message, ethernetSource: MacAddress): NdpVerdict {
    const solicitation = parseNeighborSolicitation(message.body);
    if (isIpv6Multicast(solicitation.target)) return 'invalid';
    const isDadProbe = packet.source === UNSPECIFIED;
    // RFC 4861 §7.1.1: a DAD probe goes to a solicited-node group and carries no source MAC.
    if (isDadProbe && (!isIpv6Multicast(packet.destination) || solicitation.sourceLinkLayerAddress !== undefined)) return 'invalid';
    if (!isDadProbe && solicitation.sourceLinkLayerAddress !== undefined) {
      this.table.learn(packet.source, solicitation.sourceLinkLayerAddress);
    }
    if (!this.link.addresses.has(solicitation.target)) return 'not-for-us';
    if (isDadProbe) {
      this.dadProbesDefended++;
      this.announce(solicitation.target);
      return 'handled';
    }
    this.advertise(solicitation.target, packet.source, solicitation.sourceLinkLayerAddress ?? ethernetSource, true);
    return 'handled';
  }

  private receiveAdvertisement(message: Icmpv6Message, ethernetSource: MacAddress): NdpVerdict {
    const advertisement = parseNeighborAdvertisement(message.body);
    if (isIpv6Multicast(advertisement.target)) return 'invalid';
    // Someone else claiming one of our addresses: never let it into our own table.
    if (this.link.addresses.has(advertisement.target)) return 'not-for-us';
    this.table.learn(advertisement.target, advertisement.targetLinkLayerAddress ?? ethernetSource);
    return 'handled';
  }

  private advertise(target: string, destination: string, destinationMac: MacAddress, solicited: boolean): void {
    const body = encodeNeighborAdvertisement({
      router: false,
      solicited,
      override: true,
      target,
      targetLinkLayerAddress: this.link.mac,
    });
    this.send(target, destination, destinationMac, Icmpv6Type.neighborAdvertisement, body);
  }

  private send(source: string, destination: string, destinationMac: MacAddress, type: number, body: Uint8Array): void {
    this.link.sendIcmpv6(source, destination, destinationMac, { type, code: 0, body }, ND_HOP_LIMIT);
  }
}
