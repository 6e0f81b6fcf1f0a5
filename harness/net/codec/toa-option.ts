import { formatIpv4, formatIpv6, isIpv4, parseIpv4, parseIpv6 } from './address.ts';
import { ParseError, requireLength } from './parse-error.ts';
import type { TcpOption } from './tcp-options.ts';

/**
 * The TOA ("TCP Option Address") option a FULLNAT load balancer adds so the backend can learn
 * the original client:
 *
 *   IPv4: kind, len=8,  port (2, big-endian), IPv4 address (4)
 *   IPv6: kind, len=20, port (2, big-endian), IPv6 address (16)
 *
 * The kind differs by vendor (254 Huawei ELB / Alibaba LVS, 200 UCloud and old LVS trees, 253
 * Akamai / NAT64 variants), so it is always a parameter.
 */
export const DEFAULT_TOA_KIND = 254;
export const TOA_IPV4_LENGTH = 8;
export const TOA_IPV6_LENGTH = 20;

export interface ToaAddress {
  kind: number;
  family: 4 | 6;
  /** Text form: dotted quad for IPv4, RFC 5952 canonical for IPv6. */
  address: string;
  port: number;
}

/** Encodes the whole option (kind and length bytes included). The family follows the address. */
export function encodeToaOption(client: { address: string; port: number; kind?: number }): Uint8Array {
  const kind = client.kind ?? DEFAULT_TOA_KIND;
  if (!Number.isInteger(client.port) || client.port < 0 || client.port > 0xffff) {
    throw new RangeError(`TOA port must be 0..65535, got ${client.port}`);
  }
  const addressBytes = isIpv4(client.address) ? parseIpv4(client.address) : parseIpv6(client.address);
  const bytes = new Uint8Array(4 + addressBytes.length);
  bytes[0] = kind;
  bytes[1] = bytes.length;
  bytes[2] = client.port >> 8;
  bytes[3] = client.port & 0xff;
  bytes.set(addressBytes, 4);
  return bytes;
}

/** The option as a `TcpOption` ready to put in a segment's option list. */
export function toaTcpOption(client: { address: string; port: number; kind?: number }): TcpOption {
  const bytes = encodeToaOption(client);
  return { type: 'unknown', kind: bytes[0]!, data: bytes.subarray(2) };
}

/** Decodes the whole option (kind and length bytes included). */
export function decodeToaOption(bytes: Uint8Array): ToaAddress {
  requireLength('toa', bytes, 2, 'option');
  const length = bytes[1]!;
  if (length !== TOA_IPV4_LENGTH && length !== TOA_IPV6_LENGTH) {
    throw new ParseError('toa', `length ${length} is neither ${TOA_IPV4_LENGTH} (IPv4) nor ${TOA_IPV6_LENGTH} (IPv6)`);
  }
  requireLength('toa', bytes, length, 'option (length byte)');
  const port = (bytes[2]! << 8) | bytes[3]!;
  return length === TOA_IPV4_LENGTH
    ? { kind: bytes[0]!, family: 4, port, address: formatIpv4(bytes, 4) }
    : { kind: bytes[0]!, family: 6, port, address: formatIpv6(bytes, 4) };
}

/**
 * Finds and decodes the first well-formed TOA option of `kind` in a parsed option list; returns
 * `undefined` if there is none (a malformed one is not an address and is skipped).
 */
export function findToaOption(options: readonly TcpOption[], kind = DEFAULT_TOA_KIND): ToaAddress | undefined {
  for (const option of options) {
    if (option.type !== 'unknown' || option.kind !== kind) continue;
    const bytes = new Uint8Array(2 + option.data.length);
    bytes[0] = option.kind;
    bytes[1] = bytes.length;
    bytes.set(option.data, 2);
    try {
      return decodeToaOption(bytes);
    } catch (error) {
      if (!(error instanceof ParseError)) throw error;
    }
  }
  return undefined;
}
