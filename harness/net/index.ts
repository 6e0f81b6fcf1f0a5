/**
 * harness/net — the lab's userspace network: frames, ARP, IPv4, IPv6 with Neighbor Discovery,
 * TCP, UDP, and the simulated load balancers. Data path, in order:
 *
 *   client ──127.0.0.1──▶ FullNatBalancer ──NetworkHost (TCP/IPv4|IPv6/ARP|NDP)──▶ Wire ──▶ guest eth0
 *
 * Balancer modes:
 * - `FullNatBalancer`: a new connection from the balancer's address, TOA naming the simulated
 *   client (IPv4 or IPv6 backend; IPv4 or IPv6 client in the option).
 * - `DsrBalancer`: the simulated client's own connection to the VIP, sent to the backend's MAC
 *   ("message forwarding mode"); `probeVipArp` checks the backend keeps quiet about the VIP.
 * - `UdpBalancer`: FULLNAT for UDP — no TOA exists for UDP, the backend sees the balancer.
 * - PROXY protocol (`FullNatBalancer`'s `proxyProtocol`): a v1 or v2 header naming the simulated
 *   client before the client's bytes, for backends that read it in userspace (nginx, HAProxy).
 *
 * Codecs are exported for scenarios that build or inspect frames themselves (hostile input,
 * asserting what went on the wire).
 */

// Balancer
export {
  FullNatBalancer,
  DEFAULT_BACKEND,
  DEFAULT_BALANCER_ADDRESS,
  DEFAULT_BALANCER_ADDRESS_V6,
  DEFAULT_BALANCER_MAC,
  DEFAULT_TOA_SETTINGS,
  type BalancerToaSettings,
  type FullNatBalancerOptions,
  type FullNatConnectionRecord,
} from './balancer/fullnat.ts';
export { DsrBalancer, DEFAULT_VIP, type DsrBalancerOptions, type DsrConnectionRecord } from './balancer/dsr.ts';
export { probeVipArp, type VipArpProbeOptions, type VipArpProbeResult, type VipArpSighting } from './balancer/vip-arp-probe.ts';
export { UdpBalancer, type UdpBalancerOptions, type UdpSessionOutcome, type UdpSessionRecord } from './balancer/udp.ts';
export type { BalancerAttachment } from './balancer/balancer-host.ts';
export type { RelayOutcome } from './balancer/connection-relay.ts';
export {
  createSimulatedClientCycle,
  SIMULATED_CLIENT_PAIRS_IPV4,
  type SimulatedClient,
  type SimulatedClientCycleOptions,
} from './balancer/simulated-clients.ts';
export { toaSegmentOptions, TOA_PLACEMENTS, type ToaPlacement, type ToaPolicy, type ToaSegmentCounts } from './balancer/toa-policy.ts';
export { insertToa, fitsOptionsArea, type ToaInsertion, type ToaPosition, type ToaWhenFull } from './balancer/toa-room.ts';
export { FastOpenCookieJar, type BalancerFastOpen, type FastOpenSyn } from './balancer/fast-open-cookies.ts';
export {
  BROKEN_PROXY_FORMS,
  DEFAULT_PROXY_DESTINATION,
  checkProxySettings,
  proxyHeaderFor,
  type ProxyHeaderForm,
  type ProxyHeaderPlan,
  type ProxyProtocolSettings,
} from './balancer/proxy-protocol-policy.ts';

// Stack
export { NetworkHost, DROP_REASONS, type NetworkHostOptions, type HostStats, type DropReason } from './stack/network-host.ts';
export type { TcpConnectOptions, TcpListenOptions, TcpListener } from './stack/tcp-engine.ts';
export { TcpSocket } from './stack/tcp-socket.ts';
export type { TcpState } from './stack/tcp-connection.ts';
export { TcpConnectionError, type TcpErrorCode } from './stack/tcp-errors.ts';
export { DEFAULT_TCP_TUNING, clockDrivenInitialSequenceNumber, type TcpTuning } from './stack/tcp-tuning.ts';
export {
  ArpResolutionError,
  NeighborResolutionError,
  NeighborResolver,
  DEFAULT_ARP_TUNING,
  type ArpTuning,
} from './stack/neighbor-resolver.ts';
export type { NeighborDiscovery } from './stack/neighbor-discovery.ts';
export type { UdpBindOptions } from './stack/udp-engine.ts';
export { UdpSocket, type UdpRemoteInfo, type UdpSocketCounters } from './stack/udp-socket.ts';
export type { OutgoingSegmentInfo, OutgoingSegmentRole, SegmentOptionsHook } from './stack/segment-options-hook.ts';
export type { TcpFastOpenConnect, TcpFastOpenServer } from './stack/fast-open.ts';

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
  parseIpv6Packet,
  serializeIpv6Packet,
  Ipv6NextHeader,
  solicitedNodeAddress,
  ipv6MulticastMac,
  ALL_NODES_ADDRESS,
  type Ipv6Packet,
} from './codec/ipv6.ts';
export {
  parseIcmpv6Message,
  serializeIcmpv6Message,
  isIcmpv6ChecksumValid,
  parseNeighborSolicitation,
  parseNeighborAdvertisement,
  encodeNeighborSolicitation,
  encodeNeighborAdvertisement,
  Icmpv6Type,
  type Icmpv6Message,
  type NeighborSolicitation,
  type NeighborAdvertisement,
} from './codec/icmpv6.ts';
export { parseUdpDatagram, serializeUdpDatagram, isUdpChecksumValid, type UdpDatagram } from './codec/udp.ts';
export {
  parseTcpSegment,
  serializeTcpSegment,
  isTcpChecksumValid,
  isTcpChecksumValidIpv4,
  tcpFlags,
  describeTcpFlags,
  type TcpSegment,
  type TcpFlags,
} from './codec/tcp.ts';
export { parseTcpOptions, serializeTcpOptions, findFastOpenOption, type TcpOption } from './codec/tcp-options.ts';
export {
  encodeToaOption,
  decodeToaOption,
  findToaOption,
  toaTcpOption,
  DEFAULT_TOA_KIND,
  type ToaAddress,
} from './codec/toa-option.ts';
export { internetChecksum } from './codec/checksum.ts';
export {
  encodeProxyHeaderV1,
  encodeProxyHeaderV2,
  PP2_TYPE,
  PROXY_V1_MAX_LENGTH,
  PROXY_V2_COMMAND,
  PROXY_V2_FAMILY,
  PROXY_V2_FIXED_LENGTH,
  PROXY_V2_SIGNATURE,
  ProxyHeaderError,
  type ProxiedConnection,
  type ProxyEndpoint,
  type ProxyProtocolVersion,
  type ProxyTlv,
} from './codec/proxy-header.ts';
export { formatIpv6, parseIpv4, parseIpv6, formatIpv4, normalizeIpAddress, ipFamilyOf, type IpFamily } from './codec/address.ts';
export { formatMac, parseMac, type MacAddress } from './codec/mac.ts';
export {
  BALANCER_PROFILES,
  BALANCER_PROFILE_LIST,
  DEFAULT_BALANCER_PROFILE,
  FIELD_TOA_KINDS,
  UnknownBalancerProfileError,
  balancerProfile,
  isStandardIpv4Profile,
  kindOutside,
  profileCarries,
  profileConnectionFamily,
  profileForKind,
  type BalancerProfile,
} from './balancer/balancer-profiles.ts';
export {
  encodeToaLayout,
  decodeToaLayout,
  toaLayoutLength,
  toaLayoutCarries,
  STANDARD_TOA_LAYOUT,
  type ToaField,
  type ToaLayout,
  type ToaLayoutCarries,
} from './codec/toa-option.ts';
