import { describe, expect, it } from 'vitest';
import {
  encodeProxyHeaderV1,
  encodeProxyHeaderV2,
  PP2_TYPE,
  PROXY_V1_MAX_LENGTH,
  ProxyHeaderError,
} from '../../../../harness/net/codec/proxy-header.ts';

/**
 * Byte layouts from HAProxy's proxy-protocol.txt (sections 2.1 and 2.2), written out by hand
 * here rather than produced by the encoder's own helpers, so a wrong encoder cannot agree with
 * itself.
 */
const SIGNATURE = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];
const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');
const hex = (bytes: Uint8Array | number[]): string => Buffer.from(bytes).toString('hex');

const V4 = { source: { address: '198.51.100.7', port: 40001 }, destination: { address: '192.0.2.100', port: 80 } };
const V6 = { source: { address: '2001:db8:1::1', port: 40002 }, destination: { address: '2001:db8::100', port: 8080 } };

describe('PROXY protocol v1', () => {
  it('is one CRLF-terminated line: PROXY TCP4 src dst sport dport', () => {
    expect(text(encodeProxyHeaderV1(V4))).toBe('PROXY TCP4 198.51.100.7 192.0.2.100 40001 80\r\n');
  });

  it('names IPv6 with TCP6', () => {
    expect(text(encodeProxyHeaderV1(V6))).toBe('PROXY TCP6 2001:db8:1::1 2001:db8::100 40002 8080\r\n');
  });

  it("says UNKNOWN for a connection it will not describe (the receiver then uses the real peer)", () => {
    expect(text(encodeProxyHeaderV1('unknown'))).toBe('PROXY UNKNOWN\r\n');
  });

  it("fits the spec's 107 bytes even for the longest TCP6 addresses and ports", () => {
    const longest = 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff';
    const line = encodeProxyHeaderV1({ source: { address: longest, port: 65535 }, destination: { address: longest, port: 65535 } });
    expect(line.length).toBe(104);
    expect(line.length).toBeLessThanOrEqual(PROXY_V1_MAX_LENGTH);
  });

  it('refuses mixed families, bad ports and non-addresses with a clear error', () => {
    expect(() => encodeProxyHeaderV1({ source: V4.source, destination: V6.destination })).toThrow(/different families/);
    expect(() => encodeProxyHeaderV1({ ...V4, source: { address: '198.51.100.7', port: 65536 } })).toThrow(ProxyHeaderError);
    expect(() => encodeProxyHeaderV1({ ...V4, source: { address: 'client.example', port: 1 } })).toThrow(/not an IP address/);
  });
});

describe('PROXY protocol v2', () => {
  it('IPv4: signature, 0x21 (v2, PROXY), 0x11 (INET, STREAM), len 12, src, dst, sport, dport', () => {
    const expected = [
      ...SIGNATURE,
      0x21,
      0x11,
      0x00,
      0x0c,
      ...[198, 51, 100, 7],
      ...[192, 0, 2, 100],
      0x9c,
      0x41, // 40001
      0x00,
      0x50, // 80
    ];
    expect(hex(encodeProxyHeaderV2(V4))).toBe(hex(expected));
  });

  it('IPv6: 0x21 (INET6, STREAM), len 36, 16-byte addresses', () => {
    const header = encodeProxyHeaderV2(V6);
    expect(header.length).toBe(16 + 36);
    expect(hex(header.subarray(12, 16))).toBe('21210024');
    expect(hex(header.subarray(16, 32))).toBe('20010db8000100000000000000000001');
    expect(hex(header.subarray(32, 48))).toBe('20010db8000000000000000000000100');
    expect(hex(header.subarray(48))).toBe('9c421f90'); // 40002, 8080
  });

  it('TLVs follow the addresses as type, 2-byte length, value, and len counts them', () => {
    const authority = Buffer.from('toa-lab.example');
    const header = encodeProxyHeaderV2(V4, [
      { type: PP2_TYPE.AUTHORITY, value: authority },
      { type: PP2_TYPE.NOOP, value: new Uint8Array(3) },
    ]);
    const tlvLength = 3 + authority.length + 3 + 3;
    expect(header.length).toBe(16 + 12 + tlvLength);
    expect((header[14]! << 8) | header[15]!).toBe(12 + tlvLength);
    const tlvs = header.subarray(28);
    expect(hex(tlvs.subarray(0, 3))).toBe('02000f');
    expect(text(tlvs.subarray(3, 3 + authority.length))).toBe('toa-lab.example');
    expect(hex(tlvs.subarray(3 + authority.length))).toBe('040003000000');
  });

  it('LOCAL: 0x20, family and transport UNSPEC (0x00), len 0 — or just the TLVs', () => {
    expect(hex(encodeProxyHeaderV2('local'))).toBe(hex([...SIGNATURE, 0x20, 0x00, 0x00, 0x00]));
    expect(hex(encodeProxyHeaderV2('local', [{ type: PP2_TYPE.NOOP, value: new Uint8Array(0) }]).subarray(12))).toBe('2000000304' + '0000');
  });

  it('refuses a TLV value over 65,535 bytes, a type over 255 and a header over 65,535', () => {
    expect(() => encodeProxyHeaderV2(V4, [{ type: 0x100, value: new Uint8Array(1) }])).toThrow(/type must be 0\.\.255/);
    expect(() => encodeProxyHeaderV2(V4, [{ type: PP2_TYPE.NOOP, value: new Uint8Array(0x10000) }])).toThrow(/over 65535/);
    const big = { type: PP2_TYPE.NOOP, value: new Uint8Array(0xfff0) };
    expect(() => encodeProxyHeaderV2(V4, [big, big])).toThrow(/over 65535/);
  });
});
