import { ParseError } from './parse-error.ts';

/** MAC addresses are carried as lowercase colon-separated strings ("52:54:00:12:34:56"). */
export type MacAddress = string;

export const BROADCAST_MAC: MacAddress = 'ff:ff:ff:ff:ff:ff';
export const ZERO_MAC: MacAddress = '00:00:00:00:00:00';

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Formats 6 bytes at `offset` as a MAC string. */
export function formatMac(bytes: Uint8Array, offset = 0): MacAddress {
  return (
    `${HEX[bytes[offset]!]}:${HEX[bytes[offset + 1]!]}:${HEX[bytes[offset + 2]!]}:` +
    `${HEX[bytes[offset + 3]!]}:${HEX[bytes[offset + 4]!]}:${HEX[bytes[offset + 5]!]}`
  );
}

const MAC_PATTERN = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/i;

/** Parses "52:54:00:12:34:56" (case-insensitive) into 6 bytes; throws ParseError otherwise. */
export function parseMac(text: string): Uint8Array {
  if (!MAC_PATTERN.test(text)) throw new ParseError('mac', `not a MAC address: ${JSON.stringify(text)}`);
  return Uint8Array.from(text.split(':'), (part) => parseInt(part, 16));
}

/** Writes a MAC string as 6 bytes at `offset`. */
export function writeMac(target: Uint8Array, offset: number, mac: MacAddress): void {
  target.set(cachedMacBytes(mac), offset);
}

/** Normalises a MAC string (lowercase); throws ParseError if it is not one. */
export function normalizeMac(text: string): MacAddress {
  return formatMac(parseMac(text));
}

/** Memoised `parseMac` for the per-frame path; the bytes are shared — copy, never modify. */
const macBytesCache = new Map<string, Uint8Array>();
export function cachedMacBytes(text: MacAddress): Readonly<Uint8Array> {
  let bytes = macBytesCache.get(text);
  if (bytes === undefined) {
    bytes = parseMac(text);
    if (macBytesCache.size >= 4096) macBytesCache.clear();
    macBytesCache.set(text, bytes);
  }
  return bytes;
}
