import { cachedIpv4Bytes, isIpv4 } from '../codec/address.ts';
import { ArpOperation, parseArpPacket, serializeArpPacket } from '../codec/arp.ts';
import { internetChecksum, ipv4PseudoHeaderSum } from '../codec/checksum.ts';
import { ETHERNET_HEADER_LENGTH, EtherType, writeEthernetHeader } from '../codec/ethernet.ts';
import { IPV4_MIN_HEADER_LENGTH, IpProtocol, isIpv4HeaderChecksumValid, parseIpv4Packet, writeIpv4Header } from '../codec/ipv4.ts';
import { BROADCAST_MAC, ZERO_MAC, cachedMacBytes, normalizeMac, type MacAddress } from '../codec/mac.ts';
import { ParseError } from '../codec/parse-error.ts';
import { isTcpChecksumValidIpv4, parseTcpSegment, tcpHeaderLength, writeTcpSegment, type TcpHeader } from '../codec/tcp.ts';
import { tapWire, type FrameTap } from '../wire/frame-tap.ts';
import type { Wire } from '../wire/wire.ts';
import { ArpResolver, DEFAULT_ARP_TUNING, type ArpTuning } from './arp-resolver.ts';
import type { TcpEndpoints } from './tcp-connection.ts';
import { TcpEngine, type TcpConnectOptions, type TcpListener, type TcpListenOptions } from './tcp-engine.ts';
import type { TcpSocket } from './tcp-socket.ts';
import { resolveTcpTuning, type TcpTuning } from './tcp-tuning.ts';

export interface NetworkHostOptions {
  wire: Wire;
  mac: MacAddress;
  /** One or more IPv4 addresses on the lab segment; the first is the default source. */
  addresses: string | readonly string[];
  /** Link MTU (default 1500); the advertised MSS defaults to MTU − 40. */
  mtu?: number;
  tcp?: Partial<TcpTuning>;
  arp?: Partial<ArpTuning>;
  /** Sees every frame in and out (e.g. `new PcapWriter(path).tap`). */
  tap?: FrameTap;
}

/** Why a received frame was not used. Counted so a silent test failure can be explained. */
export type DropReason =
  | 'malformed'
  | 'not-for-us'
  | 'unsupported-ethertype'
  | 'bad-ip-checksum'
  | 'bad-tcp-checksum'
  | 'ip-fragment'
  | 'unsupported-protocol';

export interface HostStats {
  framesReceived: number;
  framesSent: number;
  dropped: Record<DropReason, number>;
}

const IP_TTL = 64;
const ICMP_ECHO_REQUEST = 8;
const ICMP_ECHO_REPLY = 0;

/**
 * One L2/L3 endpoint on a wire: a MAC with one or more IPv4 addresses. It answers ARP for its
 * addresses (the guest re-checks about every 5 s, so this never stops), resolves peers with
 * ARP, answers ping (handy when debugging the lab wire from the guest), and hands TCP to its
 * engine. IPv4 only for now; fragments and IP options are not interpreted.
 */
export class NetworkHost {
  readonly mac: MacAddress;
  readonly addresses: readonly string[];
  readonly stats: HostStats = {
    framesReceived: 0,
    framesSent: 0,
    dropped: {
      malformed: 0,
      'not-for-us': 0,
      'unsupported-ethertype': 0,
      'bad-ip-checksum': 0,
      'bad-tcp-checksum': 0,
      'ip-fragment': 0,
      'unsupported-protocol': 0,
    },
  };
  readonly arp: ArpResolver;
  private readonly wire: Wire;
  private readonly tcp: TcpEngine;
  private readonly macBytes: Readonly<Uint8Array>;
  private readonly addressSet: ReadonlySet<string>;
  private nextIpId = Math.floor(Math.random() * 0x10000);
  private readonly detach: (() => void)[] = [];
  private closed = false;

  constructor(options: NetworkHostOptions) {
    this.mac = normalizeMac(options.mac);
    this.macBytes = cachedMacBytes(this.mac);
    this.addresses = typeof options.addresses === 'string' ? [options.addresses] : [...options.addresses];
    if (this.addresses.length === 0) throw new Error('a NetworkHost needs at least one IPv4 address');
    for (const address of this.addresses) {
      if (!isIpv4(address)) throw new Error(`not an IPv4 address: ${address}`);
    }
    this.addressSet = new Set(this.addresses);
    this.wire = options.tap ? tapWire(options.wire, options.tap) : options.wire;
    const mtu = options.mtu ?? 1500;
    const tuning = resolveTcpTuning({ mss: mtu - 40, ...options.tcp });
    this.tcp = new TcpEngine(this.sendTcp, this.addresses, tuning);
    this.arp = new ArpResolver(
      { ...DEFAULT_ARP_TUNING, ...options.arp },
      (targetIp, senderIp) => this.sendArp(ArpOperation.request, BROADCAST_MAC, ZERO_MAC, targetIp, senderIp),
      (frame) => this.sendFrame(frame),
      (ip, error) => this.tcp.failHandshakesTo(ip, 'EHOSTUNREACH', error.message),
    );
    this.detach.push(
      this.wire.onFrame((frame) => this.receiveFrame(frame)),
      this.wire.onClose((error) =>
        this.tcp.failAll('ENETDOWN', `lab wire closed${error ? `: ${error.message}` : ''}`),
      ),
    );
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

  get connectionCount(): number {
    return this.tcp.connectionCount;
  }

  /** The MAC of `ip`, asking with ARP if it is not known yet. */
  resolve(ip: string, fromAddress = this.addresses[0]!): Promise<MacAddress> {
    return this.arp.resolve(ip, fromAddress);
  }

  /** Tells the segment we are here (gratuitous ARP), so the guest need not ask. */
  announce(): void {
    for (const address of this.addresses) {
      this.sendArp(ArpOperation.request, BROADCAST_MAC, ZERO_MAC, address, address);
    }
  }

  /** Puts raw bytes on the wire: the escape hatch for hostile-input scenarios. */
  sendFrame(frame: Uint8Array): void {
    if (this.closed) return;
    this.stats.framesSent++;
    this.wire.send(frame);
  }

  /**
   * Aborts every connection (peers get RST; local streams close without an error), stops
   * listening and detaches from the wire. The wire itself is the caller's and stays open.
   */
  close(): void {
    if (this.closed) return;
    this.tcp.closeListeners();
    this.tcp.abortAll();
    this.arp.stop();
    this.closed = true;
    for (const detach of this.detach) detach();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('network host is closed');
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
      else this.drop('unsupported-ethertype');
    } catch (error) {
      if (!(error instanceof ParseError)) throw error;
      this.drop('malformed');
    }
  }

  private isAddressedToUs(frame: Uint8Array): boolean {
    let ours = true;
    let broadcast = true;
    for (let i = 0; i < 6; i++) {
      if (frame[i] !== this.macBytes[i]) ours = false;
      if (frame[i] !== 0xff) broadcast = false;
    }
    return ours || broadcast;
  }

  private receiveArp(bytes: Uint8Array): void {
    const packet = parseArpPacket(bytes);
    // RFC 826: learn the sender from any ARP packet (updates keep the table right after a
    // guest restarts; an unsolicited reply for an address nobody asked about is still useful).
    if (packet.senderIp !== '0.0.0.0') this.arp.learn(packet.senderIp, packet.senderMac);
    if (packet.operation === ArpOperation.request && this.addressSet.has(packet.targetIp) && packet.senderIp !== packet.targetIp) {
      this.sendArp(ArpOperation.reply, packet.senderMac, packet.senderMac, packet.senderIp, packet.targetIp);
    }
  }

  private receiveIpv4(bytes: Uint8Array): void {
    const packet = parseIpv4Packet(bytes);
    if (!this.addressSet.has(packet.destination)) return this.drop('not-for-us');
    if (!isIpv4HeaderChecksumValid(bytes)) return this.drop('bad-ip-checksum');
    if (packet.moreFragments || packet.fragmentOffset !== 0) return this.drop('ip-fragment');
    if (packet.protocol === IpProtocol.tcp) {
      if (!isTcpChecksumValidIpv4(packet.payload, bytes.subarray(12, 16), bytes.subarray(16, 20))) {
        return this.drop('bad-tcp-checksum');
      }
      this.tcp.receive(packet.source, packet.destination, parseTcpSegment(packet.payload));
    } else if (packet.protocol === IpProtocol.icmp && packet.payload[0] === ICMP_ECHO_REQUEST) {
      this.answerPing(packet.source, packet.destination, packet.payload);
    } else {
      this.drop('unsupported-protocol');
    }
  }

  private drop(reason: DropReason): void {
    this.stats.dropped[reason]++;
  }

  // ─── Sending ───────────────────────────────────────────────────────────────────────────────

  private sendArp(operation: number, ethernetDestination: MacAddress, targetMac: MacAddress, targetIp: string, senderIp: string): void {
    const arp = serializeArpPacket({ operation, senderMac: this.mac, senderIp, targetMac, targetIp });
    const frame = new Uint8Array(ETHERNET_HEADER_LENGTH + arp.length);
    writeEthernetHeader(frame, 0, { destination: ethernetDestination, source: this.mac, etherType: EtherType.arp });
    frame.set(arp, ETHERNET_HEADER_LENGTH);
    this.sendFrame(frame);
  }

  /**
   * Builds Ethernet + IPv4 + TCP in one buffer (one allocation, the payload copied once) and
   * sends it to the peer's MAC, resolving it first if needed.
   */
  private readonly sendTcp = (endpoints: TcpEndpoints, header: TcpHeader, payload: Uint8Array): void => {
    const tcpLength = tcpHeaderLength(header.options) + payload.length;
    const ipOffset = ETHERNET_HEADER_LENGTH;
    const tcpOffset = ipOffset + IPV4_MIN_HEADER_LENGTH;
    const frame = Buffer.allocUnsafe(tcpOffset + tcpLength);
    frame.fill(0, 0, 6); // destination MAC: filled in by the ARP resolver
    frame.set(this.macBytes, 6);
    frame[12] = EtherType.ipv4 >> 8;
    frame[13] = EtherType.ipv4 & 0xff;
    this.writeIpv4(frame, ipOffset, endpoints.localAddress, endpoints.remoteAddress, IpProtocol.tcp, tcpLength);
    const pseudo = ipv4PseudoHeaderSum(
      cachedIpv4Bytes(endpoints.localAddress),
      cachedIpv4Bytes(endpoints.remoteAddress),
      IpProtocol.tcp,
      tcpLength,
    );
    writeTcpSegment(frame, tcpOffset, header, payload, pseudo);
    this.arp.sendTo(endpoints.remoteAddress, endpoints.localAddress, frame);
  };

  private writeIpv4(frame: Uint8Array, offset: number, source: string, destination: string, protocol: number, payloadLength: number): void {
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
        ttl: IP_TTL,
        protocol,
        source,
        destination,
        options: EMPTY_OPTIONS,
      },
      payloadLength,
    );
  }

  private answerPing(requester: string, ourAddress: string, request: Uint8Array): void {
    const ipOffset = ETHERNET_HEADER_LENGTH;
    const icmpOffset = ipOffset + IPV4_MIN_HEADER_LENGTH;
    const frame = new Uint8Array(icmpOffset + request.length);
    frame[12] = EtherType.ipv4 >> 8;
    frame[13] = EtherType.ipv4 & 0xff;
    frame.set(this.macBytes, 6);
    this.writeIpv4(frame, ipOffset, ourAddress, requester, IpProtocol.icmp, request.length);
    frame.set(request, icmpOffset);
    frame[icmpOffset] = ICMP_ECHO_REPLY;
    frame[icmpOffset + 2] = 0;
    frame[icmpOffset + 3] = 0;
    const checksum = internetChecksum(frame, icmpOffset, frame.length);
    frame[icmpOffset + 2] = checksum >> 8;
    frame[icmpOffset + 3] = checksum & 0xff;
    this.arp.sendTo(requester, ourAddress, frame);
  }
}

const EMPTY_OPTIONS = new Uint8Array(0);
