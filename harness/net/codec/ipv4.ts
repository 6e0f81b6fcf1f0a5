import { cachedIpv4Bytes, internedIpv4, type Ipv4Address } from './address.ts';
import { internetChecksum } from './checksum.ts';
import { ParseError, requireLength } from './parse-error.ts';

/** IPv4 (RFC 791). Options are kept as raw bytes: nothing in the lab interprets them. */
export const IPV4_MIN_HEADER_LENGTH = 20;

export const IpProtocol = { icmp: 1, tcp: 6, udp: 17 } as const;

export interface Ipv4Packet {
  /** The whole second byte (DSCP + ECN). */
  typeOfService: number;
  identification: number;
  dontFragment: boolean;
  moreFragments: boolean;
  /** The reserved ("evil") flag bit; kept so any header round-trips byte-exactly. */
  reservedFlag: boolean;
  /** In 8-byte units, as on the wire. */
  fragmentOffset: number;
  ttl: number;
  protocol: number;
  /** As found on the wire (parse) or to be written verbatim (serialize); omit to compute. */
  headerChecksum?: number;
  source: Ipv4Address;
  destination: Ipv4Address;
  /** Option bytes, length a multiple of 4 (at most 40). */
  options: Uint8Array;
  /** Exactly `totalLength - headerLength` bytes; link-layer padding is cut off. */
  payload: Uint8Array;
}

const NO_OPTIONS = new Uint8Array(0);

export function parseIpv4Packet(bytes: Uint8Array): Ipv4Packet {
  requireLength('ipv4', bytes, IPV4_MIN_HEADER_LENGTH, 'header');
  const version = bytes[0]! >> 4;
  if (version !== 4) throw new ParseError('ipv4', `version is ${version}, not 4`);
  const headerLength = (bytes[0]! & 0x0f) * 4;
  if (headerLength < IPV4_MIN_HEADER_LENGTH) throw new ParseError('ipv4', `header length ${headerLength} < 20`);
  const totalLength = (bytes[2]! << 8) | bytes[3]!;
  if (totalLength < headerLength) {
    throw new ParseError('ipv4', `total length ${totalLength} is shorter than the header (${headerLength})`);
  }
  requireLength('ipv4', bytes, totalLength, 'packet (total length field)');
  const flagsAndOffset = (bytes[6]! << 8) | bytes[7]!;
  return {
    typeOfService: bytes[1]!,
    identification: (bytes[4]! << 8) | bytes[5]!,
    reservedFlag: (flagsAndOffset & 0x8000) !== 0,
    dontFragment: (flagsAndOffset & 0x4000) !== 0,
    moreFragments: (flagsAndOffset & 0x2000) !== 0,
    fragmentOffset: flagsAndOffset & 0x1fff,
    ttl: bytes[8]!,
    protocol: bytes[9]!,
    headerChecksum: (bytes[10]! << 8) | bytes[11]!,
    source: internedIpv4(bytes, 12),
    destination: internedIpv4(bytes, 16),
    // Nearly every packet has none: one shared empty array, not a view per packet.
    options: headerLength === IPV4_MIN_HEADER_LENGTH ? NO_OPTIONS : bytes.subarray(IPV4_MIN_HEADER_LENGTH, headerLength),
    payload: bytes.subarray(headerLength, totalLength),
  };
}

/** True when the header checksum of the packet starting at `bytes[0]` is correct. */
export function isIpv4HeaderChecksumValid(bytes: Uint8Array): boolean {
  const headerLength = (bytes[0]! & 0x0f) * 4;
  return bytes.length >= headerLength && internetChecksum(bytes, 0, headerLength) === 0;
}

export type Ipv4Header = Omit<Ipv4Packet, 'payload'>;

/**
 * Writes the header at `offset` for a payload of `payloadLength` bytes (the payload itself is
 * the caller's to place after it). Computes the checksum unless `header.headerChecksum` is set.
 * Returns the offset just past the header.
 */
export function writeIpv4Header(target: Uint8Array, offset: number, header: Ipv4Header, payloadLength: number): number {
  if (header.options.length % 4 !== 0 || header.options.length > 40) {
    throw new RangeError(`IPv4 options must be a multiple of 4 bytes, at most 40 (got ${header.options.length})`);
  }
  const headerLength = IPV4_MIN_HEADER_LENGTH + header.options.length;
  const totalLength = headerLength + payloadLength;
  if (totalLength > 0xffff) throw new RangeError(`IPv4 packet of ${totalLength} bytes exceeds 65535`);
  const flagsAndOffset =
    (header.reservedFlag ? 0x8000 : 0) |
    (header.dontFragment ? 0x4000 : 0) |
    (header.moreFragments ? 0x2000 : 0) |
    (header.fragmentOffset & 0x1fff);
  const t = target;
  t[offset] = 0x40 | (headerLength / 4);
  t[offset + 1] = header.typeOfService;
  t[offset + 2] = totalLength >> 8;
  t[offset + 3] = totalLength & 0xff;
  t[offset + 4] = header.identification >> 8;
  t[offset + 5] = header.identification & 0xff;
  t[offset + 6] = flagsAndOffset >> 8;
  t[offset + 7] = flagsAndOffset & 0xff;
  t[offset + 8] = header.ttl;
  t[offset + 9] = header.protocol;
  t[offset + 10] = 0;
  t[offset + 11] = 0;
  t.set(cachedIpv4Bytes(header.source), offset + 12);
  t.set(cachedIpv4Bytes(header.destination), offset + 16);
  t.set(header.options, offset + IPV4_MIN_HEADER_LENGTH);
  const checksum = header.headerChecksum ?? internetChecksum(t, offset, offset + headerLength);
  t[offset + 10] = checksum >> 8;
  t[offset + 11] = checksum & 0xff;
  return offset + headerLength;
}

export function serializeIpv4Packet(packet: Ipv4Packet): Uint8Array {
  const bytes = new Uint8Array(IPV4_MIN_HEADER_LENGTH + packet.options.length + packet.payload.length);
  const payloadOffset = writeIpv4Header(bytes, 0, packet, packet.payload.length);
  bytes.set(packet.payload, payloadOffset);
  return bytes;
}
