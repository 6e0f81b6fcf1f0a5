import { cachedIpv6Bytes, formatIpv6, parseIpv6, type Ipv6Address } from './address.ts';
import type { MacAddress } from './mac.ts';
import { ParseError, requireLength } from './parse-error.ts';

/**
 * IPv6 (RFC 8200): the fixed 40-byte header. Extension headers are not interpreted — the
 * packet's payload starts right after the fixed header and `nextHeader` says what it is, so a
 * caller sees a hop-by-hop or fragment header as just another next-header value and can drop it.
 */
export const IPV6_HEADER_LENGTH = 40;

/** Next-header values the lab meets (the transport ones share IPv4's protocol numbers). */
export const Ipv6NextHeader = {
  hopByHop: 0,
  tcp: 6,
  udp: 17,
  fragment: 44,
  icmpv6: 58,
  noNextHeader: 59,
} as const;

export interface Ipv6Packet {
  /** DSCP + ECN. */
  trafficClass: number;
  /** 20 bits. */
  flowLabel: number;
  nextHeader: number;
  hopLimit: number;
  source: Ipv6Address;
  destination: Ipv6Address;
  /** Exactly `payload length` bytes; link-layer padding is cut off. */
  payload: Uint8Array;
}

export type Ipv6Header = Omit<Ipv6Packet, 'payload'>;

export function parseIpv6Packet(bytes: Uint8Array): Ipv6Packet {
  requireLength('ipv6', bytes, IPV6_HEADER_LENGTH, 'header');
  const version = bytes[0]! >> 4;
  if (version !== 6) throw new ParseError('ipv6', `version is ${version}, not 6`);
  const payloadLength = (bytes[4]! << 8) | bytes[5]!;
  // A zero payload length with a hop-by-hop Jumbo option (RFC 2675) cannot occur on a 1500-byte
  // link; it reads as an empty payload, which the next layer then refuses.
  requireLength('ipv6', bytes, IPV6_HEADER_LENGTH + payloadLength, 'packet (payload length field)');
  return {
    trafficClass: ((bytes[0]! & 0x0f) << 4) | (bytes[1]! >> 4),
    flowLabel: ((bytes[1]! & 0x0f) << 16) | (bytes[2]! << 8) | bytes[3]!,
    nextHeader: bytes[6]!,
    hopLimit: bytes[7]!,
    source: formatIpv6(bytes, 8),
    destination: formatIpv6(bytes, 24),
    payload: bytes.subarray(IPV6_HEADER_LENGTH, IPV6_HEADER_LENGTH + payloadLength),
  };
}

/**
 * Writes the fixed header at `offset` for a payload of `payloadLength` bytes (placed by the
 * caller right after it). Returns the offset just past the header.
 */
export function writeIpv6Header(target: Uint8Array, offset: number, header: Ipv6Header, payloadLength: number): number {
  if (payloadLength > 0xffff) throw new RangeError(`IPv6 payload of ${payloadLength} bytes exceeds 65535 (no jumbograms)`);
  if (header.flowLabel < 0 || header.flowLabel > 0xfffff) throw new RangeError(`flow label ${header.flowLabel} is not 20 bits`);
  const t = target;
  t[offset] = 0x60 | ((header.trafficClass >> 4) & 0x0f);
  t[offset + 1] = ((header.trafficClass & 0x0f) << 4) | (header.flowLabel >> 16);
  t[offset + 2] = (header.flowLabel >> 8) & 0xff;
  t[offset + 3] = header.flowLabel & 0xff;
  t[offset + 4] = payloadLength >> 8;
  t[offset + 5] = payloadLength & 0xff;
  t[offset + 6] = header.nextHeader;
  t[offset + 7] = header.hopLimit;
  t.set(cachedIpv6Bytes(header.source), offset + 8);
  t.set(cachedIpv6Bytes(header.destination), offset + 24);
  return offset + IPV6_HEADER_LENGTH;
}

export function serializeIpv6Packet(packet: Ipv6Packet): Uint8Array {
  const bytes = new Uint8Array(IPV6_HEADER_LENGTH + packet.payload.length);
  writeIpv6Header(bytes, 0, packet, packet.payload.length);
  bytes.set(packet.payload, IPV6_HEADER_LENGTH);
  return bytes;
}

// ─── Multicast on Ethernet ─────────────────────────────────────────────────────────────────

/** ff02::1: every node on the link (where a defended DAD probe is answered). */
export const ALL_NODES_ADDRESS = 'ff02::1';

export function isIpv6Multicast(address: Ipv6Address): boolean {
  return address.startsWith('ff');
}

/**
 * The solicited-node multicast address of `address` (RFC 4291 §2.7.1): ff02::1:ff + its low
 * 24 bits. Neighbour Solicitations — resolution and DAD probes alike — are sent there.
 */
export function solicitedNodeAddress(address: Ipv6Address): Ipv6Address {
  const bytes = parseIpv6(address);
  const group = parseIpv6('ff02::1:ff00:0');
  group.set(bytes.subarray(13), 13);
  return formatIpv6(group);
}

/** The Ethernet address an IPv6 multicast group maps to (RFC 2464 §7): 33:33 + its low 32 bits. */
export function ipv6MulticastMac(group: Ipv6Address): MacAddress {
  const bytes = parseIpv6(group);
  const hex = (byte: number): string => byte.toString(16).padStart(2, '0');
  return `33:33:${hex(bytes[12]!)}:${hex(bytes[13]!)}:${hex(bytes[14]!)}:${hex(bytes[15]!)}`;
}
