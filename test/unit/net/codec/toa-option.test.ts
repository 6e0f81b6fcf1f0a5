import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeToaOption, encodeToaOption, findToaOption, toaTcpOption } from '../../../../harness/net/codec/toa-option.ts';
import { parseTcpOptions } from '../../../../harness/net/codec/tcp-options.ts';
import { ParseError } from '../../../../harness/net/codec/parse-error.ts';
import { arbitraryIpv4, arbitraryIpv6, hex, uint16 } from '../helpers/arbitraries.ts';

describe('TOA option', () => {
  it('encodes 198.51.100.7:40001 as fe 08 9c 41 c6 33 64 07', () => {
    // 40001 = 0x9c41; 198 = 0xc6, 51 = 0x33, 100 = 0x64, 7 = 0x07.
    expect(encodeToaOption({ address: '198.51.100.7', port: 40001 })).toEqual(hex('fe 08 9c 41 c6 33 64 07'));
  });

  it('uses the kind it is given (UCloud 200, Akamai 253)', () => {
    expect(encodeToaOption({ address: '203.0.113.9', port: 1, kind: 200 })).toEqual(hex('c8 08 00 01 cb 00 71 09'));
  });

  it('encodes the IPv6 form with length 20', () => {
    expect(encodeToaOption({ address: '2001:db8::7', port: 443 })).toEqual(
      hex('fe 14 01 bb 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 07'),
    );
    expect(decodeToaOption(hex('fe 14 01 bb 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 07'))).toEqual({
      kind: 254,
      family: 6,
      address: '2001:db8::7',
      port: 443,
    });
  });

  it('round-trips both families', () => {
    fc.assert(
      fc.property(fc.oneof(arbitraryIpv4, arbitraryIpv6), uint16, fc.integer({ min: 2, max: 255 }), (address, port, kind) => {
        const decoded = decodeToaOption(encodeToaOption({ address, port, kind }));
        expect(decoded).toEqual({ kind, family: address.includes(':') ? 6 : 4, address, port });
      }),
    );
  });

  it('refuses lengths other than 8 and 20 with ParseError', () => {
    for (const bytes of [hex('fe 00'), hex('fe 01'), hex('fe ff 00 00'), hex('fe 07 9c 41 c6 33 64'), hex('fe 08 9c 41')]) {
      expect(() => decodeToaOption(bytes)).toThrow(ParseError);
    }
  });

  it('is found in a parsed option list, skipping other kinds and malformed copies', () => {
    const options = parseTcpOptions(hex('02 04 05 b4 fd 08 00 01 0a 00 00 01 fe 08 9c 41 c6 33 64 07'));
    expect(findToaOption(options)).toEqual({ kind: 254, family: 4, address: '198.51.100.7', port: 40001 });
    expect(findToaOption(options, 253)?.address).toBe('10.0.0.1');
    expect(findToaOption(parseTcpOptions(hex('fe 03 00 00')))).toBeUndefined();
    expect(findToaOption([toaTcpOption({ address: '203.0.113.5', port: 9 })])?.address).toBe('203.0.113.5');
  });
});
