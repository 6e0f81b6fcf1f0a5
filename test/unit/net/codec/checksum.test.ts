import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { internetChecksum, ipv4PseudoHeaderSum, ipv6PseudoHeaderSum, sumWords } from '../../../../harness/net/codec/checksum.ts';
import { parseIpv6 } from '../../../../harness/net/codec/address.ts';

describe('internet checksum', () => {
  it('matches the RFC 1071 §3 worked example', () => {
    // RFC 1071: bytes 00 01 f2 03 f4 f5 f6 f7 sum to 0x2ddf0 → folded 0xddf2 → checksum 0x220d.
    const bytes = Uint8Array.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
    expect(sumWords(bytes)).toBe(0x2ddf0);
    expect(internetChecksum(bytes)).toBe(0x220d);
  });

  it('pads an odd trailing byte with zero on the right', () => {
    expect(sumWords(Uint8Array.from([0x12, 0x34, 0x56]))).toBe(0x1234 + 0x5600);
  });

  it('verifies to zero once the checksum is included', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 2, maxLength: 200 }), (random) => {
        const bytes = Uint8Array.from(random);
        const even = bytes.length - (bytes.length % 2);
        const data = bytes.subarray(0, even);
        data[0] = 0;
        data[1] = 0;
        const checksum = internetChecksum(data);
        data[0] = checksum >> 8;
        data[1] = checksum & 0xff;
        expect(internetChecksum(data)).toBe(0);
      }),
    );
  });

  it('sums the IPv4 pseudo-header', () => {
    // c000 + 0202 + c000 + 020a + 0006 + 0028 = 0x1843a (192.0.2.2 → 192.0.2.10, TCP, 40 bytes)
    expect(ipv4PseudoHeaderSum(Uint8Array.of(192, 0, 2, 2), Uint8Array.of(192, 0, 2, 10), 6, 40)).toBe(0x1843a);
  });

  it('sums the IPv6 pseudo-header with a 32-bit length', () => {
    const source = parseIpv6('2001:db8::1');
    const destination = parseIpv6('2001:db8::2');
    // 2001+0db8+1 + 2001+0db8+2 + length (0x0001 high word, 0x0004 low word) + next header 6
    expect(ipv6PseudoHeaderSum(source, destination, 6, 0x10004)).toBe(
      0x2001 + 0x0db8 + 1 + 0x2001 + 0x0db8 + 2 + 1 + 4 + 6,
    );
  });
});
