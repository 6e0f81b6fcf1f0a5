import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseIpv4, parseIpv6 } from '../../../../harness/net/codec/address.ts';
import { parseEthernetFrame } from '../../../../harness/net/codec/ethernet.ts';
import { parseIpv4Packet } from '../../../../harness/net/codec/ipv4.ts';
import { parseIpv6Packet } from '../../../../harness/net/codec/ipv6.ts';
import { ParseError } from '../../../../harness/net/codec/parse-error.ts';
import { isUdpChecksumValid, parseUdpDatagram, serializeUdpDatagram } from '../../../../harness/net/codec/udp.ts';
import { arbitraryIpv4, arbitraryIpv6, uint16 } from '../helpers/arbitraries.ts';
import { KERNEL_UDP_IPV4, KERNEL_UDP_IPV6 } from '../helpers/kernel-vectors.ts';

describe('udp', () => {
  for (const [family, frame] of [
    ['IPv4', KERNEL_UDP_IPV4],
    ['IPv6', KERNEL_UDP_IPV6],
  ] as const) {
    it(`reads, checks and rewrites the kernel's datagram over ${family}`, () => {
      const payload = parseEthernetFrame(frame).payload;
      const ip = family === 'IPv4' ? parseIpv4Packet(payload) : parseIpv6Packet(payload);
      const [source, destination] =
        family === 'IPv4' ? [parseIpv4(ip.source), parseIpv4(ip.destination)] : [parseIpv6(ip.source), parseIpv6(ip.destination)];
      const datagram = parseUdpDatagram(ip.payload);
      expect(datagram).toMatchObject({ sourcePort: 5300, destinationPort: 40000 });
      expect(Buffer.from(datagram.payload).toString()).toBe('vector');
      expect(isUdpChecksumValid(ip.payload, source, destination)).toBe(true);
      const { checksum: _, ...withoutChecksum } = datagram;
      expect(serializeUdpDatagram(withoutChecksum, source, destination)).toEqual(ip.payload);
    });
  }

  it('round-trips any datagram over either family, checksum valid', () => {
    const addresses = fc.oneof(
      fc.tuple(arbitraryIpv4, arbitraryIpv4).map(([a, b]) => [parseIpv4(a), parseIpv4(b)] as const),
      fc.tuple(arbitraryIpv6, arbitraryIpv6).map(([a, b]) => [parseIpv6(a), parseIpv6(b)] as const),
    );
    fc.assert(
      fc.property(addresses, uint16, uint16, fc.uint8Array({ maxLength: 64 }), ([source, destination], sourcePort, destinationPort, payload) => {
        const bytes = serializeUdpDatagram({ sourcePort, destinationPort, payload }, source, destination);
        expect(isUdpChecksumValid(bytes, source, destination)).toBe(true);
        expect(bytes[6]! | bytes[7]!).not.toBe(0); // a computed 0 goes out as 0xffff
        expect(parseUdpDatagram(Uint8Array.from([...bytes, 0, 0]))).toEqual({ sourcePort, destinationPort, checksum: (bytes[6]! << 8) | bytes[7]!, payload });
      }),
      { numRuns: 300 },
    );
  });

  it('a zero checksum means "none" over IPv4 only', () => {
    const bytes = serializeUdpDatagram({ sourcePort: 1, destinationPort: 2, checksum: 0, payload: new Uint8Array(3) }, parseIpv4('192.0.2.2'), parseIpv4('192.0.2.10'));
    expect(isUdpChecksumValid(bytes, parseIpv4('192.0.2.2'), parseIpv4('192.0.2.10'))).toBe(true);
    expect(isUdpChecksumValid(bytes, parseIpv6('2001:db8::2'), parseIpv6('2001:db8::10'))).toBe(false);
  });

  it('refuses short headers and lengths that do not fit with ParseError', () => {
    expect(() => parseUdpDatagram(new Uint8Array(7))).toThrow(ParseError);
    expect(() => parseUdpDatagram(Uint8Array.from([0, 1, 0, 2, 0, 4, 0, 0]))).toThrow(/length field 4/);
    expect(() => parseUdpDatagram(Uint8Array.from([0, 1, 0, 2, 0, 9, 0, 0]))).toThrow(ParseError);
  });
});
