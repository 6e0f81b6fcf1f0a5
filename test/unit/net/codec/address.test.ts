import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatIpv6, isIpv4, parseIpv4, parseIpv6, ipv4ToNumber, numberToIpv4 } from '../../../../harness/net/codec/address.ts';
import { ParseError } from '../../../../harness/net/codec/parse-error.ts';
import { arbitraryIpv6 } from '../helpers/arbitraries.ts';

describe('addresses', () => {
  it('parses dotted quads strictly', () => {
    expect(parseIpv4('192.0.2.10')).toEqual(Uint8Array.of(192, 0, 2, 10));
    for (const bad of ['192.0.2', '192.0.2.256', '192.0.2.010', ' 192.0.2.1', '::1']) {
      expect(isIpv4(bad), bad).toBe(false);
      expect(() => parseIpv4(bad)).toThrow(ParseError);
    }
    expect(numberToIpv4(ipv4ToNumber('203.0.113.254') + 1)).toBe('203.0.113.255');
  });

  it('reads dotted quads by hand exactly as the pattern it replaced', () => {
    // The pattern isIpv4 used before it was written out character by character (issue 13).
    const byPattern = (text: string): boolean => {
      const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
      return match !== null && match.slice(1).every((part) => Number(part) <= 255 && !/^0\d/.test(part));
    };
    const dottedish = fc.stringMatching(/^[0-9.]{0,16}$/);
    const quadLike = fc
      .array(fc.oneof(fc.integer({ min: 0, max: 999 }).map(String), fc.constantFrom('00', '01', '007', '', '0000', '256')), {
        minLength: 3,
        maxLength: 5,
      })
      .map((parts) => parts.join('.'));
    const anything = fc.string({ maxLength: 20 });
    fc.assert(
      fc.property(fc.oneof(dottedish, quadLike, anything), (text) => {
        expect(isIpv4(text), JSON.stringify(text)).toBe(byPattern(text));
      }),
      { numRuns: 5000 },
    );
    for (const text of ['0.0.0.0', '255.255.255.255', '1.2.3.4\n', '1.2.3.4.', '.1.2.3', '1..2.3', '00.0.0.0', '1.2.3.04']) {
      expect(isIpv4(text), JSON.stringify(text)).toBe(byPattern(text));
    }
  });

  it('parses the IPv6 text forms', () => {
    expect(formatIpv6(parseIpv6('2001:0DB8:0000:0000:0000:0000:0000:0007'))).toBe('2001:db8::7');
    expect(formatIpv6(parseIpv6('::'))).toBe('::');
    expect(formatIpv6(parseIpv6('::1'))).toBe('::1');
    expect(formatIpv6(parseIpv6('2001:db8::'))).toBe('2001:db8::');
    expect(formatIpv6(parseIpv6('::ffff:192.0.2.1'))).toBe('::ffff:c000:201');
    expect(Array.from(parseIpv6('1:2:3:4:5:6:192.0.2.1').subarray(12))).toEqual([192, 0, 2, 1]);
    for (const bad of ['1::2::3', '1:2:3:4:5:6:7:8:9', '12345::', 'fe80::1%eth1', '1:2:3:4:5:6:7', ':::']) {
      expect(() => parseIpv6(bad), bad).toThrow(ParseError);
    }
  });

  it('formats per RFC 5952: longest zero run, never a single zero word', () => {
    expect(formatIpv6(parseIpv6('2001:db8:0:1:1:1:1:1'))).toBe('2001:db8:0:1:1:1:1:1');
    expect(formatIpv6(parseIpv6('2001:0:0:1:0:0:0:1'))).toBe('2001:0:0:1::1');
    expect(formatIpv6(parseIpv6('2001:db8:0:0:1:0:0:1'))).toBe('2001:db8::1:0:0:1');
  });

  it('round-trips any 16 bytes', () => {
    fc.assert(
      fc.property(arbitraryIpv6, (text) => {
        expect(formatIpv6(parseIpv6(text))).toBe(text);
      }),
    );
  });
});
