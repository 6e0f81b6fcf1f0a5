/**
 * The internet checksum (RFC 1071) and the transport pseudo-headers that feed it.
 *
 * Sums are kept unfolded (plain numbers) between calls so a caller can add a pseudo-header,
 * a header and a payload that live in different buffers without concatenating them; `fold`
 * turns the running sum into the 16-bit one's complement result at the end. A JS number holds
 * 2^53, so even a 64 KiB segment cannot overflow the unfolded sum.
 */

/** Adds the bytes in `[start, end)` of `bytes` as big-endian 16-bit words to `sum`. */
export function sumWords(bytes: Uint8Array, start = 0, end = bytes.length, sum = 0): number {
  let i = start;
  const evenEnd = end - ((end - start) & 1);
  for (; i < evenEnd; i += 2) {
    sum += (bytes[i]! << 8) | bytes[i + 1]!;
  }
  // An odd trailing byte is padded with a zero byte on the right (RFC 1071 §4.1).
  if (i < end) sum += bytes[i]! << 8;
  return sum;
}

/** Folds carries back in and complements: the value to put in a checksum field. */
export function foldChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** The checksum of `bytes` alone (IPv4 header, ICMP). 0 means "valid" when the field is included. */
export function internetChecksum(bytes: Uint8Array, start = 0, end = bytes.length): number {
  return foldChecksum(sumWords(bytes, start, end));
}

/**
 * Unfolded sum of the IPv4 pseudo-header (RFC 9293 §3.1): source, destination, zero,
 * protocol, transport length. `source`/`destination` are read from offset 0 of each array so a
 * caller can pass subarrays of a packet it already holds.
 */
export function ipv4PseudoHeaderSum(
  source: Uint8Array,
  destination: Uint8Array,
  protocol: number,
  transportLength: number,
): number {
  return sumWords(source, 0, 4) + sumWords(destination, 0, 4) + protocol + transportLength;
}

/**
 * `ipv4PseudoHeaderSum` read off an IPv4 header (at `offset` in `bytes`), where source and
 * destination lie side by side (its bytes 12–19): no views of them, no second lookup of the
 * addresses' bytes.
 */
export function ipv4PseudoHeaderSumOf(bytes: Uint8Array, protocol: number, transportLength: number, offset = 0): number {
  return sumWords(bytes, offset + 12, offset + 20) + protocol + transportLength;
}

/**
 * Unfolded sum of the IPv6 pseudo-header (RFC 8200 §8.1): source, destination, 32-bit upper
 * layer length, three zero bytes, next header. Also used by ICMPv6, which (unlike ICMP for
 * IPv4) covers the pseudo-header too.
 */
export function ipv6PseudoHeaderSum(
  source: Uint8Array,
  destination: Uint8Array,
  nextHeader: number,
  transportLength: number,
): number {
  return (
    sumWords(source, 0, 16) +
    sumWords(destination, 0, 16) +
    Math.floor(transportLength / 0x10000) +
    (transportLength & 0xffff) +
    nextHeader
  );
}

/**
 * The pseudo-header sum for either family, picked by the address length (4 or 16 bytes): the
 * transport codecs then need no family parameter of their own.
 */
export function pseudoHeaderSum(source: Uint8Array, destination: Uint8Array, protocol: number, transportLength: number): number {
  if (source.length !== destination.length || (source.length !== 4 && source.length !== 16)) {
    throw new RangeError(`pseudo-header needs two IPv4 or two IPv6 addresses (got ${source.length} and ${destination.length} bytes)`);
  }
  return source.length === 4
    ? ipv4PseudoHeaderSum(source, destination, protocol, transportLength)
    : ipv6PseudoHeaderSum(source, destination, protocol, transportLength);
}

/** Checksum for a TCP/UDP segment given the pseudo-header sum (checksum field must be zero). */
export function transportChecksum(pseudoHeaderSum: number, segment: Uint8Array): number {
  return foldChecksum(sumWords(segment, 0, segment.length, pseudoHeaderSum));
}
