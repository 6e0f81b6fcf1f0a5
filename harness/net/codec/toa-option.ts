import { cachedIpv4Bytes, cachedIpv6Bytes, formatIpv4, formatIpv6, isIpv4, parseIpv4, parseIpv6 } from './address.ts';
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
  // Memoised: a balancer encodes one option per connection, for a few hundred distinct clients.
  const addressBytes = isIpv4(client.address) ? cachedIpv4Bytes(client.address) : cachedIpv6Bytes(client.address);
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

/**
 * The fields of a vendor's TOA-like option after its kind and length bytes, in wire order.
 * Not every vendor's option names the client: TencentOS's VPC forms carry a VPC id or the
 * VIP, Alibaba's CDN form a version byte and no port. Values that are not the client's are
 * fixed in the layout (they are what the balancer would send for this lab's service).
 */
export type ToaField =
  | { field: 'client-port' }
  | { field: 'client-ipv4' }
  | { field: 'client-ipv6' }
  | { field: 'version'; value: number }
  | { field: 'vpc-id'; value: number }
  | { field: 'vip-ipv4'; address: string }
  | { field: 'vip-ipv6'; address: string }
  | { field: 'vip-port'; port: number }
  | { field: 'reserved'; length: number };

export type ToaLayout = readonly ToaField[];

/** Bytes each field takes (a registry, so a new field is one line here and one in the writer). */
const FIELD_LENGTH: { [F in ToaField['field']]: (field: Extract<ToaField, { field: F }>) => number } = {
  'client-port': () => 2,
  'client-ipv4': () => 4,
  'client-ipv6': () => 16,
  version: () => 1,
  'vpc-id': () => 4,
  'vip-ipv4': () => 4,
  'vip-ipv6': () => 16,
  'vip-port': () => 2,
  reserved: (f) => f.length,
};

export function toaFieldLength(field: ToaField): number {
  return (FIELD_LENGTH[field.field] as (f: ToaField) => number)(field);
}

/** The option's length byte for a layout: kind and length bytes included. */
export function toaLayoutLength(layout: ToaLayout): number {
  return layout.reduce((sum, field) => sum + toaFieldLength(field), 2);
}

/** The standard TOA layouts (port, then address), the only ones `decodeToaOption` reads. */
export const STANDARD_TOA_LAYOUT: Readonly<Record<4 | 6, ToaLayout>> = Object.freeze({
  4: Object.freeze([{ field: 'client-port' }, { field: 'client-ipv4' }] as const),
  6: Object.freeze([{ field: 'client-port' }, { field: 'client-ipv6' }] as const),
});

/** What a reader of the option can learn about the client: its family, whether the address and port are there. */
export interface ToaLayoutCarries {
  clientAddress: 4 | 6 | undefined;
  clientPort: boolean;
}

export function toaLayoutCarries(layout: ToaLayout): ToaLayoutCarries {
  const has = (name: ToaField['field']): boolean => layout.some((f) => f.field === name);
  return {
    clientAddress: has('client-ipv4') ? 4 : has('client-ipv6') ? 6 : undefined,
    clientPort: has('client-port'),
  };
}

/**
 * Encodes an option of any layout for one client. The client's address must be of the family
 * the layout carries (an IPv4 client in an IPv6 field is a caller's error, not a wire form).
 */
export function encodeToaLayout(kind: number, layout: ToaLayout, client: { address: string; port: number }): Uint8Array {
  const length = toaLayoutLength(layout);
  if (length > 40) throw new RangeError(`a TCP option of ${length} bytes cannot fit the 40-byte options area`);
  const bytes = new Uint8Array(length);
  bytes[0] = kind;
  bytes[1] = length;
  let at = 2;
  const put = (data: Uint8Array): void => {
    bytes.set(data, at);
    at += data.length;
  };
  const port = (value: number): Uint8Array => {
    if (!Number.isInteger(value) || value < 0 || value > 0xffff) throw new RangeError(`TOA port must be 0..65535, got ${value}`);
    return Uint8Array.of(value >> 8, value & 0xff);
  };
  const ipv4 = (address: string): Uint8Array => {
    if (!isIpv4(address)) throw new RangeError(`an IPv4 field needs an IPv4 address, got ${address}`);
    return parseIpv4(address);
  };
  const ipv6 = (address: string): Uint8Array => {
    if (isIpv4(address)) throw new RangeError(`an IPv6 field needs an IPv6 address, got ${address}`);
    return parseIpv6(address);
  };
  for (const field of layout) {
    switch (field.field) {
      case 'client-port':
        put(port(client.port));
        break;
      case 'client-ipv4':
        put(ipv4(client.address));
        break;
      case 'client-ipv6':
        put(ipv6(client.address));
        break;
      case 'version':
        put(Uint8Array.of(field.value & 0xff));
        break;
      case 'vpc-id':
        put(Uint8Array.of(field.value >>> 24, (field.value >>> 16) & 0xff, (field.value >>> 8) & 0xff, field.value & 0xff));
        break;
      case 'vip-ipv4':
        put(ipv4(field.address));
        break;
      case 'vip-ipv6':
        put(ipv6(field.address));
        break;
      case 'vip-port':
        put(port(field.port));
        break;
      case 'reserved':
        put(new Uint8Array(field.length));
        break;
    }
  }
  return bytes;
}

/** Reads the client a layout carries back out of an encoded option (the inverse of `encodeToaLayout`, for checks). */
export function decodeToaLayout(layout: ToaLayout, bytes: Uint8Array): { address?: string; port?: number } {
  const length = toaLayoutLength(layout);
  requireLength('toa', bytes, length, 'option');
  if (bytes[1] !== length) throw new ParseError('toa', `length byte ${bytes[1]} is not the layout's ${length}`);
  const client: { address?: string; port?: number } = {};
  let at = 2;
  for (const field of layout) {
    if (field.field === 'client-port') client.port = (bytes[at]! << 8) | bytes[at + 1]!;
    if (field.field === 'client-ipv4') client.address = formatIpv4(bytes, at);
    if (field.field === 'client-ipv6') client.address = formatIpv6(bytes, at);
    at += toaFieldLength(field);
  }
  return client;
}
