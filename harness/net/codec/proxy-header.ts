import { isIpv4, isIpv6, parseIpv4, parseIpv6 } from './address.ts';

/**
 * The PROXY protocol header a load balancer puts in front of the client's bytes, so the backend
 * learns the original client without any kernel help (HAProxy's proxy-protocol.txt, versions 1
 * and 2). The whole header goes before the first byte of the client's stream.
 *
 *   v1 (text, one line, at most 107 bytes with CRLF):
 *     "PROXY TCP4 198.51.100.1 192.0.2.100 40001 80\r\n"   or "PROXY UNKNOWN\r\n"
 *   v2 (binary):
 *     12-byte signature 0D 0A 0D 0A 00 0D 0A 51 55 49 54 0A
 *     ver_cmd   0x2? (version 2; command 0 LOCAL, 1 PROXY)
 *     fam       0x?? (high nibble family: 0 UNSPEC, 1 INET, 2 INET6; low nibble 1 STREAM)
 *     len       2 bytes, big-endian: what follows (addresses + TLVs)
 *     addresses INET: src 4, dst 4, sport 2, dport 2 (12); INET6: 16, 16, 2, 2 (36)
 *     TLVs      type (1), length (2, big-endian), value
 *
 * Hand-written rather than taken from the npm registry: the one kept package (proxy-protocol-js
 * 4.0.x) has no TLVs — its `data` is appended after the header and left out of the header's
 * length field, so a v2 receiver would take those bytes for the client's — and the lab needs
 * TLVs. The encoding is small and is tested byte for byte against the spec's layouts.
 */
export type ProxyProtocolVersion = 1 | 2;

export interface ProxyEndpoint {
  address: string;
  port: number;
}

/** The connection a header describes: the client (source) and the address it connected to (destination). */
export interface ProxiedConnection {
  source: ProxyEndpoint;
  destination: ProxyEndpoint;
}

/** One v2 TLV: its type byte and value (at most 65,535 bytes). */
export interface ProxyTlv {
  type: number;
  value: Uint8Array;
}

/** The TLV types proxy-protocol.txt assigns (section 2.2). */
export const PP2_TYPE = Object.freeze({
  ALPN: 0x01,
  AUTHORITY: 0x02,
  CRC32C: 0x03,
  NOOP: 0x04,
  UNIQUE_ID: 0x05,
  SSL: 0x20,
  NETNS: 0x30,
});

export const PROXY_V2_SIGNATURE: Readonly<Uint8Array> = Uint8Array.of(0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a);
/** Signature, ver_cmd, fam, len. */
export const PROXY_V2_FIXED_LENGTH = 16;
/** The longest v1 line the spec allows, CRLF included ("PROXY UNKNOWN" + the longest TCP6 line). */
export const PROXY_V1_MAX_LENGTH = 107;

export const PROXY_V2_COMMAND = Object.freeze({ LOCAL: 0x0, PROXY: 0x1 });
export const PROXY_V2_FAMILY = Object.freeze({ UNSPEC: 0x0, INET: 0x1, INET6: 0x2 });
export const PROXY_V2_TRANSPORT_STREAM = 0x1;

/** Bad input to an encoder: the header would be one no receiver should accept. */
export class ProxyHeaderError extends Error {
  override readonly name = 'ProxyHeaderError';
}

/** "PROXY TCP4|TCP6 src dst sport dport\r\n", or "PROXY UNKNOWN\r\n" for `'unknown'` (the receiver uses the real peer). */
export function encodeProxyHeaderV1(connection: ProxiedConnection | 'unknown'): Uint8Array {
  if (connection === 'unknown') return asciiBytes('PROXY UNKNOWN\r\n');
  const family = connectionFamily(connection);
  const { source, destination } = connection;
  // The spec wants addresses in their usual text form; the caller's text is kept as given.
  const line = `PROXY TCP${family} ${source.address} ${destination.address} ${source.port} ${destination.port}\r\n`;
  if (line.length > PROXY_V1_MAX_LENGTH) throw new ProxyHeaderError(`v1 header is ${line.length} bytes, over the spec's ${PROXY_V1_MAX_LENGTH}`);
  return asciiBytes(line);
}

/**
 * A v2 header: PROXY with the connection's addresses, or LOCAL (`'local'`: the balancer's own
 * connection, e.g. a health check; the receiver uses the real peer) with family UNSPEC. TLVs
 * follow the addresses and are counted in `len`.
 */
export function encodeProxyHeaderV2(connection: ProxiedConnection | 'local', tlvs: readonly ProxyTlv[] = []): Uint8Array {
  const addresses = connection === 'local' ? new Uint8Array(0) : addressBlock(connection);
  const tlvBytes = tlvs.map(encodeTlv);
  const length = addresses.length + tlvBytes.reduce((sum, t) => sum + t.length, 0);
  if (length > 0xffff) throw new ProxyHeaderError(`v2 header's address block and TLVs are ${length} bytes, over 65535`);
  const header = new Uint8Array(PROXY_V2_FIXED_LENGTH + length);
  header.set(PROXY_V2_SIGNATURE, 0);
  const command = connection === 'local' ? PROXY_V2_COMMAND.LOCAL : PROXY_V2_COMMAND.PROXY;
  header[12] = 0x20 | command;
  const family = connection === 'local' ? PROXY_V2_FAMILY.UNSPEC : connectionFamily(connection) === 4 ? PROXY_V2_FAMILY.INET : PROXY_V2_FAMILY.INET6;
  // LOCAL with UNSPEC: the spec's "unspecified" transport (0x00) goes with it.
  header[13] = connection === 'local' ? 0x00 : (family << 4) | PROXY_V2_TRANSPORT_STREAM;
  header[14] = length >> 8;
  header[15] = length & 0xff;
  header.set(addresses, PROXY_V2_FIXED_LENGTH);
  let at = PROXY_V2_FIXED_LENGTH + addresses.length;
  for (const tlv of tlvBytes) {
    header.set(tlv, at);
    at += tlv.length;
  }
  return header;
}

/** INET: src(4) dst(4) sport dport; INET6: src(16) dst(16) sport dport. */
function addressBlock(connection: ProxiedConnection): Uint8Array {
  const family = connectionFamily(connection);
  const parse = family === 4 ? parseIpv4 : parseIpv6;
  const size = family === 4 ? 4 : 16;
  const block = new Uint8Array(2 * size + 4);
  block.set(parse(connection.source.address), 0);
  block.set(parse(connection.destination.address), size);
  writePort(block, 2 * size, connection.source.port);
  writePort(block, 2 * size + 2, connection.destination.port);
  return block;
}

function encodeTlv(tlv: ProxyTlv): Uint8Array {
  if (!Number.isInteger(tlv.type) || tlv.type < 0 || tlv.type > 0xff) throw new ProxyHeaderError(`TLV type must be 0..255, got ${tlv.type}`);
  if (tlv.value.length > 0xffff) throw new ProxyHeaderError(`TLV 0x${tlv.type.toString(16)} value is ${tlv.value.length} bytes, over 65535`);
  const bytes = new Uint8Array(3 + tlv.value.length);
  bytes[0] = tlv.type;
  bytes[1] = tlv.value.length >> 8;
  bytes[2] = tlv.value.length & 0xff;
  bytes.set(tlv.value, 3);
  return bytes;
}

/** Both ends must be of one family (the spec has no mixed form): 4 or 6. */
function connectionFamily(connection: ProxiedConnection): 4 | 6 {
  const { source, destination } = connection;
  for (const end of [source, destination]) {
    if (!Number.isInteger(end.port) || end.port < 0 || end.port > 0xffff) throw new ProxyHeaderError(`port must be 0..65535, got ${end.port}`);
    if (!isIpv4(end.address) && !isIpv6(end.address)) throw new ProxyHeaderError(`not an IP address: '${end.address}'`);
  }
  const family = isIpv4(source.address) ? 4 : 6;
  if ((isIpv4(destination.address) ? 4 : 6) !== family) {
    throw new ProxyHeaderError(`source ${source.address} and destination ${destination.address} are of different families; a PROXY header names one family`);
  }
  return family;
}

function writePort(bytes: Uint8Array, at: number, port: number): void {
  bytes[at] = port >> 8;
  bytes[at + 1] = port & 0xff;
}

function asciiBytes(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}
