import { foldChecksum, pseudoHeaderSum, sumWords } from './checksum.ts';
import { IpProtocol } from './ipv4.ts';
import { ParseError, requireLength } from './parse-error.ts';

/**
 * UDP (RFC 768). No TOA exists for UDP (the Huawei guide says so): a FULLNAT relay of UDP
 * leaves the backend seeing the balancer's address, which the `udp` scenario documents.
 */
export const UDP_HEADER_LENGTH = 8;

export interface UdpDatagram {
  sourcePort: number;
  destinationPort: number;
  /** As found on the wire (parse) or to be written verbatim (serialize); omit to compute. */
  checksum?: number;
  payload: Uint8Array;
}

export type UdpHeader = Omit<UdpDatagram, 'payload'>;

/**
 * Parses a datagram (an IP payload). The length field must fit inside `bytes`; bytes past it
 * are link-layer padding and are cut off. The checksum is not verified here.
 */
export function parseUdpDatagram(bytes: Uint8Array): UdpDatagram {
  requireLength('udp', bytes, UDP_HEADER_LENGTH, 'header');
  const length = (bytes[4]! << 8) | bytes[5]!;
  if (length < UDP_HEADER_LENGTH) throw new ParseError('udp', `length field ${length} < ${UDP_HEADER_LENGTH}`);
  requireLength('udp', bytes, length, 'datagram (length field)');
  return {
    sourcePort: (bytes[0]! << 8) | bytes[1]!,
    destinationPort: (bytes[2]! << 8) | bytes[3]!,
    checksum: (bytes[6]! << 8) | bytes[7]!,
    payload: bytes.subarray(UDP_HEADER_LENGTH, length),
  };
}

/**
 * Writes header + payload at `offset`, with the checksum from `pseudoHeaderSum` unless
 * `header.checksum` is given. A computed 0 is sent as 0xffff (RFC 768: 0 means "no checksum",
 * which IPv6 forbids). Returns the offset past the payload.
 */
export function writeUdpDatagram(
  target: Uint8Array,
  offset: number,
  header: UdpHeader,
  payload: Uint8Array,
  pseudoHeaderSum: number,
): number {
  const length = UDP_HEADER_LENGTH + payload.length;
  if (length > 0xffff) throw new RangeError(`UDP datagram of ${length} bytes exceeds 65535`);
  const t = target;
  t[offset] = header.sourcePort >> 8;
  t[offset + 1] = header.sourcePort & 0xff;
  t[offset + 2] = header.destinationPort >> 8;
  t[offset + 3] = header.destinationPort & 0xff;
  t[offset + 4] = length >> 8;
  t[offset + 5] = length & 0xff;
  t[offset + 6] = 0;
  t[offset + 7] = 0;
  t.set(payload, offset + UDP_HEADER_LENGTH);
  const end = offset + length;
  const checksum = header.checksum ?? (foldChecksum(sumWords(t, offset, end, pseudoHeaderSum)) || 0xffff);
  t[offset + 6] = checksum >> 8;
  t[offset + 7] = checksum & 0xff;
  return end;
}

/** Serializes a datagram between `source` and `destination` (4 bytes each for IPv4, 16 for IPv6). */
export function serializeUdpDatagram(datagram: UdpDatagram, source: Uint8Array, destination: Uint8Array): Uint8Array {
  const length = UDP_HEADER_LENGTH + datagram.payload.length;
  const bytes = new Uint8Array(length);
  writeUdpDatagram(bytes, 0, datagram, datagram.payload, pseudoHeaderSum(source, destination, IpProtocol.udp, length));
  return bytes;
}

/**
 * True when the checksum of `datagramBytes` (exactly the datagram, padding removed) is right.
 * A zero field means "not computed": allowed over IPv4, never over IPv6 (RFC 8200 §8.1).
 */
export function isUdpChecksumValid(datagramBytes: Uint8Array, source: Uint8Array, destination: Uint8Array): boolean {
  const field = (datagramBytes[6]! << 8) | datagramBytes[7]!;
  if (field === 0) return source.length === 4;
  const pseudo = pseudoHeaderSum(source, destination, IpProtocol.udp, datagramBytes.length);
  return foldChecksum(sumWords(datagramBytes, 0, datagramBytes.length, pseudo)) === 0;
}
