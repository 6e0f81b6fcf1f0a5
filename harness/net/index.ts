/**
 * harness/net — the lab's userspace network: frames, ARP, IPv4, TCP, and the simulated load
 * balancer that injects TOA. Data path, in order:
 *
 *   client ──127.0.0.1──▶ FullNatBalancer ──NetworkHost (TCP/IPv4/ARP)──▶ Wire ──▶ guest eth1
 *
 * Codecs are exported for scenarios that build or inspect frames themselves (hostile input,
 * asserting what went on the wire).
 */

// Balancer
export {
  FullNatBalancer,
  DEFAULT_BACKEND,
  DEFAULT_BALANCER_ADDRESS,
  DEFAULT_BALANCER_MAC,
  DEFAULT_TOA_SETTINGS,
  type BalancerToaSettings,
  type FullNatBalancerOptions,
  type FullNatConnectionRecord,
} from './balancer/fullnat.ts';
export type { RelayOutcome } from './balancer/connection-relay.ts';
export { createSimulatedClientCycle, type SimulatedClient } from './balancer/simulated-clients.ts';
export { toaSegmentOptions, TOA_PLACEMENTS, type ToaPlacement, type ToaPolicy } from './balancer/toa-policy.ts';

// Stack
export { NetworkHost, type NetworkHostOptions, type HostStats, type DropReason } from './stack/network-host.ts';
export type { TcpConnectOptions, TcpListenOptions, TcpListener } from './stack/tcp-engine.ts';
export { TcpSocket } from './stack/tcp-socket.ts';
export type { TcpState } from './stack/tcp-connection.ts';
export { TcpConnectionError, type TcpErrorCode } from './stack/tcp-errors.ts';
export { DEFAULT_TCP_TUNING, type TcpTuning } from './stack/tcp-tuning.ts';
export { ArpResolutionError, DEFAULT_ARP_TUNING, type ArpTuning } from './stack/arp-resolver.ts';
export type { OutgoingSegmentInfo, OutgoingSegmentRole, SegmentOptionsHook } from './stack/segment-options-hook.ts';

// Wires
export type { Wire } from './wire/wire.ts';
export { QemuStreamWire, QemuStreamConnectError, type QemuStreamWireOptions } from './wire/qemu-stream-wire.ts';
export { MemoryWire, createMemoryWirePair, type LinkConditions, type MemoryWirePairOptions } from './wire/memory-wire.ts';
export { StreamFrameDecoder, StreamFramingError, encodeStreamFrame, MAX_STREAM_FRAME_LENGTH } from './wire/stream-framing.ts';
export { tapWire, createFrameRecorder, type FrameTap, type FrameDirection } from './wire/frame-tap.ts';
export { PcapWriter } from './wire/pcap-writer.ts';

// Codecs
export { ParseError } from './codec/parse-error.ts';
export { parseEthernetFrame, serializeEthernetFrame, EtherType, type EthernetFrame } from './codec/ethernet.ts';
export { parseArpPacket, serializeArpPacket, ArpOperation, type ArpPacket } from './codec/arp.ts';
export { parseIpv4Packet, serializeIpv4Packet, isIpv4HeaderChecksumValid, IpProtocol, type Ipv4Packet } from './codec/ipv4.ts';
export {
  parseTcpSegment,
  serializeTcpSegment,
  isTcpChecksumValidIpv4,
  tcpFlags,
  describeTcpFlags,
  type TcpSegment,
  type TcpFlags,
} from './codec/tcp.ts';
export { parseTcpOptions, serializeTcpOptions, type TcpOption } from './codec/tcp-options.ts';
export {
  encodeToaOption,
  decodeToaOption,
  findToaOption,
  toaTcpOption,
  DEFAULT_TOA_KIND,
  type ToaAddress,
} from './codec/toa-option.ts';
export { internetChecksum } from './codec/checksum.ts';
export { formatIpv6, parseIpv4, parseIpv6, formatIpv4 } from './codec/address.ts';
export { formatMac, parseMac, type MacAddress } from './codec/mac.ts';
