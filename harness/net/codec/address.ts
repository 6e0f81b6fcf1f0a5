import { ParseError } from './parse-error.ts';

/**
 * IP addresses are carried as their usual text forms ("192.0.2.10", "2001:db8::7"): readable in
 * test failures and log matching. These helpers convert to and from wire bytes.
 */
export type Ipv4Address = string;
export type Ipv6Address = string;

/**
 * A dotted quad: four parts of 1–3 decimal digits, each ≤ 255, none with a leading zero ("010").
 * Read character by character: every connection the balancer opens asks this several times.
 */
export function isIpv4(text: string): boolean {
  let dots = 0;
  let digits = 0;
  let value = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x2e /* . */) {
      if (digits === 0 || dots === 3) return false;
      dots++;
      digits = 0;
      value = 0;
      continue;
    }
    if (code < 0x30 || code > 0x39) return false;
    if (digits === 1 && value === 0) return false; // a leading zero
    value = value * 10 + (code - 0x30);
    if (++digits > 3 || value > 255) return false;
  }
  return dots === 3 && digits > 0;
}

/** "192.0.2.10" → 4 bytes. Throws ParseError for anything else (no shorthand forms). */
export function parseIpv4(text: string): Uint8Array {
  if (!isIpv4(text)) throw new ParseError('ipv4-address', `not a dotted-quad IPv4 address: ${JSON.stringify(text)}`);
  return Uint8Array.from(text.split('.'), Number);
}

export function formatIpv4(bytes: Uint8Array, offset = 0): Ipv4Address {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/**
 * `formatIpv4`, memoised by the address's 32-bit value: every received frame names two
 * addresses, nearly always the same few, and the string need not be built again each time.
 */
const ipv4TextCache = new Map<number, Ipv4Address>();
export function internedIpv4(bytes: Uint8Array, offset = 0): Ipv4Address {
  const value = ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;
  let text = ipv4TextCache.get(value);
  if (text === undefined) {
    text = formatIpv4(bytes, offset);
    if (ipv4TextCache.size >= 4096) ipv4TextCache.clear();
    ipv4TextCache.set(value, text);
  }
  return text;
}

/** The address as an unsigned 32-bit number (for range arithmetic). */
export function ipv4ToNumber(text: Ipv4Address): number {
  const b = parseIpv4(text);
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

export function numberToIpv4(value: number): Ipv4Address {
  return `${(value >>> 24) & 255}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

/**
 * Parses any RFC 4291 text form ("2001:db8::7", "::ffff:192.0.2.1") into 16 bytes.
 * Zone ids ("%eth1") are refused: they have no meaning on the lab wire.
 */
export function parseIpv6(text: string): Uint8Array {
  const fail = (): never => {
    throw new ParseError('ipv6-address', `not an IPv6 address: ${JSON.stringify(text)}`);
  };
  let head = text;
  const words: number[] = [];
  // An embedded IPv4 tail ("::ffff:192.0.2.1") becomes the last two words.
  const lastColon = head.lastIndexOf(':');
  const tail = head.slice(lastColon + 1);
  const tailWords: number[] = [];
  if (tail.includes('.')) {
    if (!isIpv4(tail)) fail();
    const b = parseIpv4(tail);
    tailWords.push((b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!);
    head = head.slice(0, lastColon + 1) + '0'; // placeholder word, removed below
  }
  const halves = head.split('::');
  if (halves.length > 2) fail();
  const parseGroup = (group: string): number[] =>
    group === ''
      ? []
      : group.split(':').map((word) => {
          if (!/^[0-9a-f]{1,4}$/i.test(word)) fail();
          return parseInt(word, 16);
        });
  const left = parseGroup(halves[0]!);
  const right = halves.length === 2 ? parseGroup(halves[1]!) : [];
  if (tailWords.length > 0) {
    // Drop the placeholder word from whichever half holds it.
    (halves.length === 2 ? right : left).pop();
  }
  const explicit = left.length + right.length + tailWords.length;
  if (halves.length === 2 ? explicit > 7 : explicit !== 8) fail();
  words.push(...left, ...new Array<number>(8 - explicit).fill(0), ...right, ...tailWords);
  const bytes = new Uint8Array(16);
  words.forEach((word, i) => {
    bytes[i * 2] = word >> 8;
    bytes[i * 2 + 1] = word & 255;
  });
  return bytes;
}

/** 16 bytes → RFC 5952 canonical text (lowercase, longest run of ≥2 zero words as "::"). */
export function formatIpv6(bytes: Uint8Array, offset = 0): Ipv6Address {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((bytes[offset + i * 2]! << 8) | bytes[offset + i * 2 + 1]!);
  let bestStart = -1;
  let bestLength = 1; // a single zero word is never compressed (RFC 5952 §4.2.2)
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (list: number[]): string => list.map((word) => word.toString(16)).join(':');
  if (bestStart < 0) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLength))}`;
}

export function isIpv6(text: string): boolean {
  try {
    parseIpv6(text);
    return true;
  } catch {
    return false;
  }
}

export type IpFamily = 4 | 6;

/**
 * The family of an address in the text forms the stack keeps (dotted quad or any IPv6 form).
 * Cheap on purpose (the per-frame path asks it): validity is checked where addresses enter.
 */
export function ipFamilyOf(text: string): IpFamily {
  return text.includes(':') ? 6 : 4;
}

/**
 * The one text form the stack keys its tables by: a valid dotted quad as is, IPv6 in RFC 5952
 * form ("2001:DB8:0::2" → "2001:db8::2"), so an address given by a caller matches the same
 * address read off the wire. Throws ParseError for anything else.
 */
export function normalizeIpAddress(text: string): string {
  if (isIpv4(text)) return text;
  return formatIpv6(parseIpv6(text));
}

/**
 * Memoised `parseIpv4` for the per-frame path (building a frame would otherwise parse the same
 * two strings for every segment). The returned bytes are shared: copy them, never modify.
 */
const ipv4BytesCache = new Map<string, Uint8Array>();
export function cachedIpv4Bytes(text: Ipv4Address): Readonly<Uint8Array> {
  let bytes = ipv4BytesCache.get(text);
  if (bytes === undefined) {
    bytes = parseIpv4(text);
    if (ipv4BytesCache.size >= 4096) ipv4BytesCache.clear();
    ipv4BytesCache.set(text, bytes);
  }
  return bytes;
}

/** Memoised `parseIpv6`, same contract as `cachedIpv4Bytes`. */
const ipv6BytesCache = new Map<string, Uint8Array>();
export function cachedIpv6Bytes(text: Ipv6Address): Readonly<Uint8Array> {
  let bytes = ipv6BytesCache.get(text);
  if (bytes === undefined) {
    bytes = parseIpv6(text);
    if (ipv6BytesCache.size >= 4096) ipv6BytesCache.clear();
    ipv6BytesCache.set(text, bytes);
  }
  return bytes;
}

/** 4 or 16 bytes, by family; shared, never modify. */
export function cachedIpBytes(text: string): Readonly<Uint8Array> {
  return ipFamilyOf(text) === 4 ? cachedIpv4Bytes(text) : cachedIpv6Bytes(text);
}
