import { cachedIpBytes, cachedIpv6Bytes, ipFamilyOf, normalizeIpAddress, type IpFamily } from '../codec/address.ts';
import { ArpOperation, parseArpPacket, serializeArpPacket, type ArpPacket } from '../codec/arp.ts';
import { internetChecksum, ipv4PseudoHeaderSumOf, pseudoHeaderSum, transportChecksum } from '../codec/checksum.ts';
import { ETHERNET_HEADER_LENGTH, EtherType } from '../codec/ethernet.ts';
import {
  Icmpv6Type,
  isIcmpv6ChecksumValid,
  parseIcmpv6Message,
  writeIcmpv6Message,
  type Icmpv6Message,
} from '../codec/icmpv6.ts';
import { IPV4_MIN_HEADER_LENGTH, IpProtocol, isIpv4HeaderChecksumValid, parseIpv4Packet, writeIpv4Header } from '../codec/ipv4.ts';
import { IPV6_HEADER_LENGTH, Ipv6NextHeader, parseIpv6Packet, writeIpv6Header, type Ipv6Packet } from '../codec/ipv6.ts';
import { BROADCAST_MAC, ZERO_MAC, cachedMacBytes, formatMac, normalizeMac, type MacAddress } from '../codec/mac.ts';
import { ParseError } from '../codec/parse-error.ts';
import { isTcpChecksumValid, parseTcpSegment, tcpHeaderLength, writeTcpSegment, type TcpHeader } from '../codec/tcp.ts';
import { UDP_HEADER_LENGTH, isUdpChecksumValid, parseUdpDatagram, writeUdpDatagram } from '../codec/udp.ts';
import { tapWire, type FrameTap } from '../wire/frame-tap.ts';
import type { Wire } from '../wire/wire.ts';
import { HostAddresses } from './host-addresses.ts';
import { NeighborDiscovery } from './neighbor-discovery.ts';
import { DEFAULT_ARP_TUNING, NeighborResolver, type ArpTuning, type NeighborResolutionError } from './neighbor-resolver.ts';
import type { TcpEndpoints } from './tcp-connection.ts';
import { TcpEngine, type TcpConnectOptions, type TcpListener, type TcpListenOptions } from './tcp-engine.ts';
import type { TcpSocket } from './tcp-socket.ts';
import { resolveTcpTuning, type TcpTuning } from './tcp-tuning.ts';
import { UdpEngine, type UdpBindOptions } from './udp-engine.ts';
import type { UdpSocket } from './udp-socket.ts';

export interface NetworkHostOptions {
  wire: Wire;
  mac: MacAddress;
  /**
   * IPv4 and/or IPv6 addresses on the lab segment; the first of each family is that family's
   * default source. More can be taken on later with `addAddress`.
   */
  addresses: string | readonly string[];
  /** Link MTU (default 1500); the advertised MSS defaults to MTU − 40 over IPv4, MTU − 60 over IPv6. */
  mtu?: number;
  /** TCP knobs; an explicit `mss` is used as given for both families. */
  tcp?: Partial<TcpTuning>;
  /** Neighbour resolution: ARP for IPv4 and Neighbor Solicitation for IPv6 alike. */
  arp?: Partial<ArpTuning>;
  /** Sees every frame in and out (e.g. `new PcapWriter(path).tap`). */
  tap?: FrameTap;
}

/** Why a received frame was not used. Counted so a silent test failure can be explained. */
export const DROP_REASONS = [
  'malformed',
  'not-for-us',
  'unsupported-ethertype',
  'bad-ip-checksum',
  'bad-tcp-checksum',
  'bad-udp-checksum',
  'bad-icmpv6-checksum',
  'invalid-neighbor-discovery',
  'ip-fragment',
  'unsupported-protocol',
  'udp-port-closed',
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export interface HostStats {
  framesReceived: number;
  framesSent: number;
  dropped: Record<DropReason, number>;
}

const IP_TTL = 64;
const ICMP_ECHO_REQUEST = 8;
const ICMP_ECHO_REPLY = 0;

/**
 * One L2/L3 endpoint on a wire: a MAC with IPv4 and/or IPv6 addresses.
 *
 * - Neighbours: answers ARP and Neighbor Solicitations for its addresses (the guest re-checks
 *   every few seconds, so this never stops), defends them against DAD probes, and resolves
 *   peers with ARP / NS before sending (see `NeighborResolver`, `NeighborDiscovery`).
 * - Transport: TCP (`connect`, `listen`) and UDP (`bindUdp`) over either family; ping answered
 *   over both (handy when debugging the lab wire from the guest).
 * - Addresses can be added and removed while it runs (`addAddress`): a DSR balancer plays
 *   simulated clients and must receive the backend's answers to them.
 * - Not interpreted: IP fragments, IPv4 options, IPv6 extension headers (all dropped, counted).
 */
export class NetworkHost {
  readonly mac: MacAddress;
  readonly stats: HostStats = {
    framesReceived: 0,
    framesSent: 0,
    dropped: Object.fromEntries(DROP_REASONS.map((reason) => [reason, 0])) as Record<DropReason, number>,
  };
  /** The IPv4 neighbour table (ARP). */
  readonly arp: NeighborResolver;
  /** IPv6 Neighbor Discovery; its `table` is the IPv6 neighbour table. */
  readonly neighborDiscovery: NeighborDiscovery;
  readonly mtu: number;
  private readonly wire: Wire;
  private readonly ownAddresses: HostAddresses;
  private readonly tcp: TcpEngine;
  private readonly udp: UdpEngine;
  private readonly macBytes: Readonly<Uint8Array>;
  private nextIpId = Math.floor(Math.random() * 0x10000);
  private readonly arpObservers = new Set<(packet: ArpPacket) => void>();
  private readonly detach: (() => void)[] = [];
  private closed = false;

  constructor(options: NetworkHostOptions) {
    this.mac = normalizeMac(options.mac);
    this.macBytes = cachedMacBytes(this.mac);
    const addresses = typeof options.addresses === 'string' ? [options.addresses] : options.addresses;
    if (addresses.length === 0) throw new Error('a NetworkHost needs at least one IP address');
    for (const address of addresses) {
      try {
        normalizeIpAddress(address);
      } catch {
        throw new Error(`not an IPv4 or IPv6 address: ${address}`);
      }
    }
    this.ownAddresses = new HostAddresses(addresses);
    this.wire = options.tap ? tapWire(options.wire, options.tap) : options.wire;
    this.mtu = options.mtu ?? 1500;
    const tuning = {
      4: resolveTcpTuning({ mss: this.mtu - IPV4_MIN_HEADER_LENGTH - 20, ...options.tcp }),
      6: resolveTcpTuning({ mss: this.mtu - IPV6_HEADER_LENGTH - 20, ...options.tcp }),
    };
    this.tcp = new TcpEngine(this.sendTcp, this.ownAddresses, tuning);
    this.udp = new UdpEngine(this.sendUdp, this.ownAddresses);
    const neighborTuning = { ...DEFAULT_ARP_TUNING, ...options.arp };
    const unreachable = (ip: string, error: NeighborResolutionError): void => this.tcp.failHandshakesTo(ip, 'EHOSTUNREACH', error.message);
    this.arp = new NeighborResolver(
      'ARP',
      neighborTuning,
      (targetIp, senderIp) => this.sendArp(ArpOperation.request, BROADCAST_MAC, ZERO_MAC, targetIp, senderIp),
      (frame) => this.sendFrame(frame),
      unreachable,
    );
    this.neighborDiscovery = new NeighborDiscovery(
      {
        mac: this.mac,
        addresses: this.ownAddresses,
        sendIcmpv6: (source, destination, destinationMac, message, hopLimit) => {
          const frame = this.buildIcmpv6Frame(source, destination, message, hopLimit);
          frame.set(cachedMacBytes(destinationMac), 0);
          this.sendFrame(frame);
        },
        sendFrame: (frame) => this.sendFrame(frame),
        onUnreachable: unreachable,
      },
      neighborTuning,
    );
    this.detach.push(
      this.wire.onFrame((frame) => this.receiveFrame(frame)),
      this.wire.onClose((error) =>
        this.tcp.failAll('ENETDOWN', `lab wire closed${error ? `: ${error.message}` : ''}`),
      ),
    );
  }

  /** Every address the host answers for, in the order it got them. */
  get addresses(): readonly string[] {
    return this.ownAddresses.list();
  }

  /** The IPv6 neighbour table (Neighbor Discovery). */
  get ndp(): NeighborResolver {
    return this.neighborDiscovery.table;
  }

  /** Whether the host answers for `address` (any text form). */
  hasAddress(address: string): boolean {
    return this.ownAddresses.has(normalizeIpAddress(address));
  }

  /**
   * Takes `address` on: ARP / NS for it are answered and traffic to it is accepted from now on.
   * Returns false if the host already had it.
   */
  addAddress(address: string): boolean {
    return this.ownAddresses.add(address);
  }

  /**
   * Gives `address` up. Connections using it stop receiving (their peer's segments are dropped
   * as not for us); close them first. Returns false if it was not the host's.
   */
  removeAddress(address: string): boolean {
    if (this.ownAddresses.size === 1 && this.hasAddress(address)) throw new Error('a NetworkHost needs at least one IP address');
    return this.ownAddresses.remove(address);
  }

  /** Opens a TCP connection; returns at once (writes are queued until 'connect'). */
  connect(options: TcpConnectOptions): TcpSocket {
    this.assertOpen();
    return this.tcp.connect(options);
  }

  listen(options: TcpListenOptions, onConnection: (socket: TcpSocket) => void): TcpListener {
    this.assertOpen();
    return this.tcp.listen(options, onConnection);
  }

  /** Binds a UDP port (ephemeral unless given), on one address or all. */
  bindUdp(options: UdpBindOptions = {}): UdpSocket {
    this.assertOpen();
    return this.udp.bind(options);
  }

  get connectionCount(): number {
    return this.tcp.connectionCount;
  }

  /** The MAC of `ip` (IPv4 by ARP, IPv6 by Neighbor Solicitation), asking if it is not known yet. */
  resolve(ip: string, fromAddress?: string): Promise<MacAddress> {
    const target = normalizeIpAddress(ip);
    const family = ipFamilyOf(target);
    const source = fromAddress === undefined ? this.ownAddresses.defaultFor(family) : normalizeIpAddress(fromAddress);
    if (source === undefined) return Promise.reject(new Error(`no IPv${family} address on this host to ask for ${target} from`));
    return this.neighborsFor(family).resolve(target, source);
  }

  /** Tells the segment we are here (gratuitous ARP; unsolicited Neighbor Advertisement), so the guest need not ask. */
  announce(): void {
    for (const address of this.ownAddresses.list()) {
      if (ipFamilyOf(address) === 4) this.sendArp(ArpOperation.request, BROADCAST_MAC, ZERO_MAC, address, address);
      else this.neighborDiscovery.announce(address);
    }
  }

  /**
   * Asks who has `ip` with one ARP request from `fromAddress` (default: our first IPv4
   * address), without waiting or queueing anything: for probes that watch the answers
   * themselves (`observeArp`), such as "does the guest answer ARP for the VIP?".
   */
  sendArpRequest(ip: string, fromAddress?: string): void {
    const sender = fromAddress ?? this.ownAddresses.defaultFor(4);
    if (sender === undefined) throw new Error('this host has no IPv4 address to send ARP from');
    this.sendArp(ArpOperation.request, BROADCAST_MAC, ZERO_MAC, normalizeIpAddress(ip), sender);
  }

  /** Sees every ARP packet the host receives (addressed to it or broadcast); returns a function that stops it. */
  observeArp(observer: (packet: ArpPacket) => void): () => void {
    this.arpObservers.add(observer);
    return () => this.arpObservers.delete(observer);
  }

  /** Puts raw bytes on the wire: the escape hatch for hostile-input scenarios. */
  sendFrame(frame: Uint8Array): void {
    if (this.closed) return;
    this.stats.framesSent++;
    this.wire.send(frame);
  }

  /**
   * Aborts every connection (peers get RST; local streams close without an error), stops
   * listening, closes UDP sockets and detaches from the wire. The wire itself is the caller's
   * and stays open.
   */
  close(): void {
    if (this.closed) return;
    this.tcp.closeListeners();
    this.tcp.abortAll();
    this.udp.closeAll();
    this.arp.stop();
    this.ndp.stop();
    this.closed = true;
    for (const detach of this.detach) detach();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('network host is closed');
  }

  private neighborsFor(family: IpFamily): NeighborResolver {
    return family === 4 ? this.arp : this.ndp;
  }

  // ─── Receiving ─────────────────────────────────────────────────────────────────────────────

  private receiveFrame(frame: Uint8Array): void {
    if (this.closed) return;
    this.stats.framesReceived++;
    try {
      if (frame.length < ETHERNET_HEADER_LENGTH) throw new ParseError('ethernet', `frame of ${frame.length} bytes`);
      if (!this.isAddressedToUs(frame)) return this.drop('not-for-us');
      const etherType = (frame[12]! << 8) | frame[13]!;
      const payload = frame.subarray(ETHERNET_HEADER_LENGTH);
      if (etherType === EtherType.arp) this.receiveArp(payload);
      else if (etherType === EtherType.ipv4) this.receiveIpv4(payload);
      else if (etherType === EtherType.ipv6) this.receiveIpv6(payload, frame);
      else this.drop('unsupported-ethertype');
    } catch (error) {
      if (!(error instanceof ParseError)) throw error;
      this.drop('malformed');
    }
  }

  /** Our MAC, broadcast, or one of the IPv6 multicast groups we joined (33:33:…). */
  private isAddressedToUs(frame: Uint8Array): boolean {
    let ours = true;
    let broadcast = true;
    for (let i = 0; i < 6; i++) {
      if (frame[i] !== this.macBytes[i]) ours = false;
      if (frame[i] !== 0xff) broadcast = false;
    }
    if (ours || broadcast) return true;
    return frame[0] === 0x33 && frame[1] === 0x33 && this.ownAddresses.acceptsMulticastMac(formatMac(frame, 0));
  }

  private receiveArp(bytes: Uint8Array): void {
    const packet = parseArpPacket(bytes);
    for (const observer of this.arpObservers) observer(packet);
    // RFC 826: learn the sender from any ARP packet (updates keep the table right after a
    // guest restarts; an unsolicited reply for an address nobody asked about is still useful).
    // Never our own addresses: a guest announcing one of them must not redirect our traffic.
    if (packet.senderIp !== '0.0.0.0' && !this.ownAddresses.has(packet.senderIp)) this.arp.learn(packet.senderIp, packet.senderMac);
    if (packet.operation === ArpOperation.request && this.ownAddresses.has(packet.targetIp) && packet.senderIp !== packet.targetIp) {
      this.sendArp(ArpOperation.reply, packet.senderMac, packet.senderMac, packet.senderIp, packet.targetIp);
    }
  }

  private receiveIpv4(bytes: Uint8Array): void {
    const packet = parseIpv4Packet(bytes);
    if (!this.ownAddresses.has(packet.destination)) return this.drop('not-for-us');
    if (!isIpv4HeaderChecksumValid(bytes)) return this.drop('bad-ip-checksum');
    if (packet.moreFragments || packet.fragmentOffset !== 0) return this.drop('ip-fragment');
    if (packet.protocol === IpProtocol.tcp) {
      // The pseudo-header is summed straight off the packet: no views of its addresses per frame.
      const pseudo = ipv4PseudoHeaderSumOf(bytes, IpProtocol.tcp, packet.payload.length);
      if (transportChecksum(pseudo, packet.payload) !== 0) return this.drop('bad-tcp-checksum');
      this.tcp.receive(packet.source, packet.destination, parseTcpSegment(packet.payload));
    } else if (packet.protocol === IpProtocol.udp) {
      this.receiveUdp(packet.source, packet.destination, packet.payload, bytes.subarray(12, 16), bytes.subarray(16, 20));
    } else if (packet.protocol === IpProtocol.icmp && packet.payload[0] === ICMP_ECHO_REQUEST) {
      this.answerPing(packet.source, packet.destination, packet.payload);
    } else {
      this.drop('unsupported-protocol');
    }
  }

  private receiveIpv6(bytes: Uint8Array, frame: Uint8Array): void {
    const packet = parseIpv6Packet(bytes);
    const unicast = this.ownAddresses.has(packet.destination);
    if (!unicast && !this.ownAddresses.inMulticastGroup(packet.destination)) return this.drop('not-for-us');
    const source = bytes.subarray(8, 24);
    const destination = bytes.subarray(24, 40);
    switch (packet.nextHeader) {
      case Ipv6NextHeader.icmpv6:
        if (!isIcmpv6ChecksumValid(packet.payload, source, destination)) return this.drop('bad-icmpv6-checksum');
        return this.receiveIcmpv6(packet, unicast, formatMac(frame, 6));
      case Ipv6NextHeader.tcp:
        if (!unicast) return this.drop('not-for-us');
        if (!isTcpChecksumValid(packet.payload, source, destination)) return this.drop('bad-tcp-checksum');
        return this.tcp.receive(packet.source, packet.destination, parseTcpSegment(packet.payload));
      case Ipv6NextHeader.udp:
        if (!unicast) return this.drop('not-for-us');
        return this.receiveUdp(packet.source, packet.destination, packet.payload, source, destination);
      case Ipv6NextHeader.fragment:
        return this.drop('ip-fragment');
      default:
        // Extension headers (hop-by-hop carries the guest's MLD reports) are not interpreted.
        return this.drop('unsupported-protocol');
    }
  }

  private receiveIcmpv6(packet: Ipv6Packet, unicast: boolean, ethernetSource: MacAddress): void {
    const message = parseIcmpv6Message(packet.payload);
    if (message.type === Icmpv6Type.neighborSolicitation || message.type === Icmpv6Type.neighborAdvertisement) {
      const verdict = this.neighborDiscovery.receive(packet, message, ethernetSource);
      if (verdict === 'invalid') this.drop('invalid-neighbor-discovery');
      else if (verdict === 'not-for-us') this.drop('not-for-us');
    } else if (message.type === Icmpv6Type.echoRequest && unicast) {
      const reply = this.buildIcmpv6Frame(packet.destination, packet.source, { type: Icmpv6Type.echoReply, code: 0, body: message.body }, IP_TTL);
      this.ndp.sendTo(packet.source, packet.destination, reply);
    } else {
      // Router solicitations, MLD and the like: nothing the lab answers.
      this.drop('unsupported-protocol');
    }
  }

  private receiveUdp(sourceText: string, destinationText: string, bytes: Uint8Array, source: Uint8Array, destination: Uint8Array): void {
    const datagram = parseUdpDatagram(bytes);
    if (!isUdpChecksumValid(bytes.subarray(0, UDP_HEADER_LENGTH + datagram.payload.length), source, destination)) {
      return this.drop('bad-udp-checksum');
    }
    // No ICMP port unreachable goes back: a balancer test wants silence it can time, not a reset.
    if (!this.udp.receive(sourceText, destinationText, datagram)) this.drop('udp-port-closed');
  }

  private drop(reason: DropReason): void {
    this.stats.dropped[reason]++;
  }

  // ─── Sending ───────────────────────────────────────────────────────────────────────────────

  private sendArp(operation: number, ethernetDestination: MacAddress, targetMac: MacAddress, targetIp: string, senderIp: string): void {
    const arp = serializeArpPacket({ operation, senderMac: this.mac, senderIp, targetMac, targetIp });
    const frame = new Uint8Array(ETHERNET_HEADER_LENGTH + arp.length);
    frame.set(cachedMacBytes(ethernetDestination), 0);
    frame.set(this.macBytes, 6);
    frame[12] = EtherType.arp >> 8;
    frame[13] = EtherType.arp & 0xff;
    frame.set(arp, ETHERNET_HEADER_LENGTH);
    this.sendFrame(frame);
  }

  /**
   * Builds Ethernet + IP + TCP in one buffer (one allocation, the payload copied once) and
   * sends it to the peer's MAC — or its next hop's — resolving it first if needed.
   */
  private readonly sendTcp = (endpoints: TcpEndpoints, header: TcpHeader, payload: Uint8Array): void => {
    const tcpLength = tcpHeaderLength(header.options) + payload.length;
    const { frame, offset } = this.buildIpFrame(endpoints.localAddress, endpoints.remoteAddress, IpProtocol.tcp, tcpLength, IP_TTL);
    // IPv4: the pseudo-header is summed off the header just written (the addresses are there).
    const pseudo =
      ipFamilyOf(endpoints.localAddress) === 4
        ? ipv4PseudoHeaderSumOf(frame, IpProtocol.tcp, tcpLength, ETHERNET_HEADER_LENGTH)
        : pseudoHeaderSum(cachedIpBytes(endpoints.localAddress), cachedIpBytes(endpoints.remoteAddress), IpProtocol.tcp, tcpLength);
    writeTcpSegment(frame, offset, header, payload, pseudo);
    this.transmit(frame, endpoints.localAddress, endpoints.remoteAddress, endpoints.nextHop);
  };

  private readonly sendUdp = (source: string, sourcePort: number, destination: string, destinationPort: number, payload: Uint8Array): void => {
    const udpLength = UDP_HEADER_LENGTH + payload.length;
    const ipHeaderLength = ipFamilyOf(source) === 4 ? IPV4_MIN_HEADER_LENGTH : IPV6_HEADER_LENGTH;
    if (ipHeaderLength + udpLength > this.mtu) {
      throw new RangeError(
        `UDP payload of ${payload.length} bytes does not fit the ${this.mtu}-byte MTU ` +
          `(at most ${this.mtu - ipHeaderLength - UDP_HEADER_LENGTH}; the lab does not fragment)`,
      );
    }
    const { frame, offset } = this.buildIpFrame(source, destination, IpProtocol.udp, udpLength, IP_TTL);
    const pseudo = pseudoHeaderSum(cachedIpBytes(source), cachedIpBytes(destination), IpProtocol.udp, udpLength);
    writeUdpDatagram(frame, offset, { sourcePort, destinationPort }, payload, pseudo);
    this.transmit(frame, source, destination);
  };

  /**
   * Hands a finished frame (destination MAC still zero) to the neighbour table of its family.
   * With a next hop, the neighbour asked is the next hop, and asked from our own first address
   * of that family: `source` may be a simulated client's address that the backend has no
   * route back to, and a kernel with rp_filter would ignore an ARP request from it.
   */
  private transmit(frame: Uint8Array, source: string, destination: string, nextHop?: string): void {
    const family = ipFamilyOf(destination);
    const neighbor = nextHop ?? destination;
    const askFrom = nextHop === undefined ? source : (this.ownAddresses.defaultFor(family) ?? source);
    this.neighborsFor(family).sendTo(neighbor, askFrom, frame);
  }

  /**
   * One buffer with the Ethernet header (destination MAC zero: the neighbour table fills it in)
   * and the IP header for a transport payload of `transportLength` bytes; returns the offset
   * where the transport header goes.
   */
  private buildIpFrame(source: string, destination: string, protocol: number, transportLength: number, hopLimit: number): { frame: Buffer; offset: number } {
    const family = ipFamilyOf(source);
    const ipHeaderLength = family === 4 ? IPV4_MIN_HEADER_LENGTH : IPV6_HEADER_LENGTH;
    const frame = Buffer.allocUnsafe(ETHERNET_HEADER_LENGTH + ipHeaderLength + transportLength);
    frame.fill(0, 0, 6);
    frame.set(this.macBytes, 6);
    const etherType = family === 4 ? EtherType.ipv4 : EtherType.ipv6;
    frame[12] = etherType >> 8;
    frame[13] = etherType & 0xff;
    if (family === 4) this.writeIpv4(frame, ETHERNET_HEADER_LENGTH, source, destination, protocol, transportLength, hopLimit);
    else {
      writeIpv6Header(
        frame,
        ETHERNET_HEADER_LENGTH,
        { trafficClass: 0, flowLabel: 0, nextHeader: protocol, hopLimit, source, destination },
        transportLength,
      );
    }
    return { frame, offset: ETHERNET_HEADER_LENGTH + ipHeaderLength };
  }

  private buildIcmpv6Frame(source: string, destination: string, message: Icmpv6Message, hopLimit: number): Buffer {
    const length = 4 + message.body.length;
    const { frame, offset } = this.buildIpFrame(source, destination, Ipv6NextHeader.icmpv6, length, hopLimit);
    writeIcmpv6Message(frame, offset, message, cachedIpv6Bytes(source), cachedIpv6Bytes(destination));
    return frame;
  }

  private writeIpv4(
    frame: Uint8Array,
    offset: number,
    source: string,
    destination: string,
    protocol: number,
    payloadLength: number,
    ttl: number,
  ): void {
    this.nextIpId = (this.nextIpId + 1) & 0xffff;
    writeIpv4Header(
      frame,
      offset,
      {
        typeOfService: 0,
        identification: this.nextIpId,
        reservedFlag: false,
        dontFragment: true,
        moreFragments: false,
        fragmentOffset: 0,
        ttl,
        protocol,
        source,
        destination,
        options: EMPTY_OPTIONS,
      },
      payloadLength,
    );
  }

  private answerPing(requester: string, ourAddress: string, request: Uint8Array): void {
    const { frame, offset } = this.buildIpFrame(ourAddress, requester, IpProtocol.icmp, request.length, IP_TTL);
    frame.set(request, offset);
    frame[offset] = ICMP_ECHO_REPLY;
    frame[offset + 2] = 0;
    frame[offset + 3] = 0;
    const checksum = internetChecksum(frame, offset, frame.length);
    frame[offset + 2] = checksum >> 8;
    frame[offset + 3] = checksum & 0xff;
    this.arp.sendTo(requester, ourAddress, frame);
  }
}

const EMPTY_OPTIONS = new Uint8Array(0);
