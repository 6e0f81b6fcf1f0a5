import fc from 'fast-check';
import { formatIpv4, formatIpv6 } from '../../../../harness/net/codec/address.ts';
import { formatMac } from '../../../../harness/net/codec/mac.ts';

/** Bytes from a readable hex dump: whitespace and newlines are ignored. */
export function hex(dump: string): Uint8Array {
  const digits = dump.replace(/\s+/g, '');
  if (digits.length % 2 !== 0 || /[^0-9a-f]/i.test(digits)) throw new Error(`bad hex dump: ${dump}`);
  return Uint8Array.from(digits.match(/../g) ?? [], (pair) => parseInt(pair, 16));
}

export const arbitraryMac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((bytes) => formatMac(bytes));
export const arbitraryIpv4 = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((bytes) => formatIpv4(bytes));
export const arbitraryIpv6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((bytes) => formatIpv6(bytes));
export const uint16 = fc.integer({ min: 0, max: 0xffff });
export const uint32 = fc.integer({ min: 0, max: 0xffffffff });
