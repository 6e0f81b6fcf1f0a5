import { ipv4PseudoHeaderSum, pseudoHeaderSum, sumWords, foldChecksum } from './checksum.ts';
import { IpProtocol } from './ipv4.ts';
import { ParseError, requireLength } from './parse-error.ts';
import { MAX_TCP_OPTIONS_LENGTH, paddedTcpOptionsLength, parseTcpOptions, writeTcpOptions, type TcpOption } from './tcp-options.ts';

/** The TCP header (RFC 9293 §3.1). */
export const TCP_MIN_HEADER_LENGTH = 20;

export interface TcpFlags {
  fin: boolean;
  syn: boolean;
  rst: boolean;
  psh: boolean;
  ack: boolean;
  urg: boolean;
  ece: boolean;
  cwr: boolean;
}

export interface TcpSegment {
  sourcePort: number;
  destinationPort: number;
  sequenceNumber: number;
  acknowledgmentNumber: number;
  flags: TcpFlags;
  /** The four bits between data offset and CWR (reserved + the historic NS bit). */
  reservedBits: number;
  window: number;
  /** As found on the wire (parse) or to be written verbatim (serialize); omit to compute. */
  checksum?: number;
  urgentPointer: number;
  options: TcpOption[];
  payload: Uint8Array;
}

const FLAG_BITS: ReadonlyArray<[keyof TcpFlags, number]> = [
  ['fin', 0x01],
  ['syn', 0x02],
  ['rst', 0x04],
  ['psh', 0x08],
  ['ack', 0x10],
  ['urg', 0x20],
  ['ece', 0x40],
  ['cwr', 0x80],
];

export const NO_TCP_FLAGS: Readonly<TcpFlags> = Object.freeze({
  fin: false,
  syn: false,
  rst: false,
  psh: false,
  ack: false,
  urg: false,
  ece: false,
  cwr: false,
});

/** `tcpFlags('syn', 'ack')` — a full flags object with just those set. */
export function tcpFlags(...set: (keyof TcpFlags)[]): TcpFlags {
  const flags = { ...NO_TCP_FLAGS };
  for (const name of set) flags[name] = true;
  return flags;
}

export function encodeTcpFlags(flags: TcpFlags): number {
  let byte = 0;
  for (const [name, bit] of FLAG_BITS) if (flags[name]) byte |= bit;
  return byte;
}

export function decodeTcpFlags(byte: number): TcpFlags {
  return {
    fin: (byte & 0x01) !== 0,
    syn: (byte & 0x02) !== 0,
    rst: (byte & 0x04) !== 0,
    psh: (byte & 0x08) !== 0,
    ack: (byte & 0x10) !== 0,
    urg: (byte & 0x20) !== 0,
    ece: (byte & 0x40) !== 0,
    cwr: (byte & 0x80) !== 0,
  };
}

/**
 * The 256 possible flag bytes decoded once, shared and frozen: `parseTcpSegment` hands these
 * out rather than building an object for every segment received.
 */
const FLAGS_BY_BYTE: readonly Readonly<TcpFlags>[] = Array.from({ length: 256 }, (_, byte) => Object.freeze(decodeTcpFlags(byte)));

/** "SYN,ACK" style summary for logs and test messages. */
export function describeTcpFlags(flags: TcpFlags): string {
  return FLAG_BITS.filter(([name]) => flags[name])
    .map(([name]) => name.toUpperCase())
    .join(',');
}

function readUint32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;
}

/**
 * Parses a TCP segment (header + payload, i.e. an IPv4 or IPv6 payload). Checksum is not
 * verified here. Its `flags` object is shared and frozen (copy it to change it).
 */
export function parseTcpSegment(bytes: Uint8Array): TcpSegment {
  requireLength('tcp', bytes, TCP_MIN_HEADER_LENGTH, 'header');
  const headerLength = (bytes[12]! >> 4) * 4;
  if (headerLength < TCP_MIN_HEADER_LENGTH) throw new ParseError('tcp', `data offset ${headerLength / 4} < 5`);
  requireLength('tcp', bytes, headerLength, 'header (data offset)');
  return {
    sourcePort: (bytes[0]! << 8) | bytes[1]!,
    destinationPort: (bytes[2]! << 8) | bytes[3]!,
    sequenceNumber: readUint32(bytes, 4),
    acknowledgmentNumber: readUint32(bytes, 8),
    reservedBits: bytes[12]! & 0x0f,
    flags: FLAGS_BY_BYTE[bytes[13]!]! as TcpFlags,
    window: (bytes[14]! << 8) | bytes[15]!,
    checksum: (bytes[16]! << 8) | bytes[17]!,
    urgentPointer: (bytes[18]! << 8) | bytes[19]!,
    options: headerLength > TCP_MIN_HEADER_LENGTH ? parseTcpOptions(bytes.subarray(TCP_MIN_HEADER_LENGTH, headerLength)) : [],
    payload: bytes.subarray(headerLength),
  };
}

export type TcpHeader = Omit<TcpSegment, 'payload'>;

/** Total header length (20 + padded options) for these options; throws if they cannot fit. */
export function tcpHeaderLength(options: readonly TcpOption[]): number {
  const optionsLength = paddedTcpOptionsLength(options);
  if (optionsLength > MAX_TCP_OPTIONS_LENGTH) {
    throw new RangeError(`TCP options take ${optionsLength} bytes once padded; at most ${MAX_TCP_OPTIONS_LENGTH} fit`);
  }
  return TCP_MIN_HEADER_LENGTH + optionsLength;
}

/**
 * Writes header + payload at `offset` and fills in the checksum from `pseudoHeaderSum`
 * (see `pseudoHeaderSum`), unless `header.checksum` is given. Returns the offset past the
 * payload. The payload is copied exactly once, straight into `target`.
 */
export function writeTcpSegment(
  target: Uint8Array,
  offset: number,
  header: TcpHeader,
  payload: Uint8Array,
  pseudoHeaderSum: number,
): number {
  const headerLength = tcpHeaderLength(header.options);
  const t = target;
  t[offset] = header.sourcePort >> 8;
  t[offset + 1] = header.sourcePort & 0xff;
  t[offset + 2] = header.destinationPort >> 8;
  t[offset + 3] = header.destinationPort & 0xff;
  const seq = header.sequenceNumber;
  t[offset + 4] = seq >>> 24;
  t[offset + 5] = (seq >>> 16) & 0xff;
  t[offset + 6] = (seq >>> 8) & 0xff;
  t[offset + 7] = seq & 0xff;
  const ack = header.acknowledgmentNumber;
  t[offset + 8] = ack >>> 24;
  t[offset + 9] = (ack >>> 16) & 0xff;
  t[offset + 10] = (ack >>> 8) & 0xff;
  t[offset + 11] = ack & 0xff;
  t[offset + 12] = ((headerLength / 4) << 4) | (header.reservedBits & 0x0f);
  t[offset + 13] = encodeTcpFlags(header.flags);
  t[offset + 14] = header.window >> 8;
  t[offset + 15] = header.window & 0xff;
  t[offset + 16] = 0;
  t[offset + 17] = 0;
  t[offset + 18] = header.urgentPointer >> 8;
  t[offset + 19] = header.urgentPointer & 0xff;
  writeTcpOptions(t, offset + TCP_MIN_HEADER_LENGTH, header.options);
  t.set(payload, offset + headerLength);
  const end = offset + headerLength + payload.length;
  const checksum = header.checksum ?? foldChecksum(sumWords(t, offset, end, pseudoHeaderSum));
  t[offset + 16] = checksum >> 8;
  t[offset + 17] = checksum & 0xff;
  return end;
}

/**
 * Serializes a segment carried between `source` and `destination`: 4 bytes each for IPv4, 16
 * for IPv6 (the pseudo-header follows the family).
 */
export function serializeTcpSegment(segment: TcpSegment, source: Uint8Array, destination: Uint8Array): Uint8Array {
  const length = tcpHeaderLength(segment.options) + segment.payload.length;
  const bytes = new Uint8Array(length);
  writeTcpSegment(bytes, 0, segment, segment.payload, pseudoHeaderSum(source, destination, IpProtocol.tcp, length));
  return bytes;
}

/** True when the TCP checksum of `segmentBytes` is correct; addresses of either family (4 or 16 bytes). */
export function isTcpChecksumValid(segmentBytes: Uint8Array, source: Uint8Array, destination: Uint8Array): boolean {
  const pseudo = pseudoHeaderSum(source, destination, IpProtocol.tcp, segmentBytes.length);
  return foldChecksum(sumWords(segmentBytes, 0, segmentBytes.length, pseudo)) === 0;
}

/** True when the TCP checksum of `segmentBytes` (as carried in IPv4) is correct. */
export function isTcpChecksumValidIpv4(segmentBytes: Uint8Array, source: Uint8Array, destination: Uint8Array): boolean {
  const pseudo = ipv4PseudoHeaderSum(source, destination, IpProtocol.tcp, segmentBytes.length);
  return foldChecksum(sumWords(segmentBytes, 0, segmentBytes.length, pseudo)) === 0;
}
