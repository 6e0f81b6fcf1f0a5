import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isIpv4HeaderChecksumValid, parseIpv4Packet, serializeIpv4Packet, type Ipv4Packet } from '../../../../harness/net/codec/ipv4.ts';
import { ParseError } from '../../../../harness/net/codec/parse-error.ts';
import { arbitraryIpv4, hex, uint16 } from '../helpers/arbitraries.ts';

// The IPv4 header of the balancer's SYN: 192.0.2.2 → 192.0.2.10, total length 60, id 0x1c46,
// DF, TTL 64, protocol 6. Checksum folded by hand over the ten header words (checksum = 0):
//   4500 + 003c + 1c46 + 4000 + 4006 + 0000 + c000 + 0202 + c000 + 020a = 0x26594
//   fold: 0x6594 + 0x2 = 0x6596;  one's complement: ~0x6596 = 0x9a69
const SYN_IP_HEADER = hex('45 00 00 3c 1c 46 40 00 40 06 9a 69 c0 00 02 02 c0 00 02 0a');

describe('ipv4', () => {
  it('parses a known-good header', () => {
    const packet = parseIpv4Packet(concat(SYN_IP_HEADER, new Uint8Array(40)));
    expect(packet).toMatchObject({
      typeOfService: 0,
      identification: 0x1c46,
      dontFragment: true,
      moreFragments: false,
      reservedFlag: false,
      fragmentOffset: 0,
      ttl: 64,
      protocol: 6,
      headerChecksum: 0x9a69,
      source: '192.0.2.2',
      destination: '192.0.2.10',
    });
    expect(packet.payload.length).toBe(40);
    expect(isIpv4HeaderChecksumValid(SYN_IP_HEADER)).toBe(true);
  });

  it('computes the same checksum when serializing', () => {
    const packet = parseIpv4Packet(concat(SYN_IP_HEADER, new Uint8Array(40)));
    const { headerChecksum: _, ...withoutChecksum } = packet;
    expect(serializeIpv4Packet(withoutChecksum).subarray(0, 20)).toEqual(SYN_IP_HEADER);
  });

  it('cuts link-layer padding off the payload', () => {
    // A 40-byte packet (bare ACK) padded to the Ethernet minimum.
    const header = hex('45 00 00 28 00 01 40 00 40 06 00 00 c0 00 02 0a c0 00 02 02');
    const packet = parseIpv4Packet(concat(header, new Uint8Array(20 + 6)));
    expect(packet.payload.length).toBe(20);
  });

  it('detects a corrupted header', () => {
    const corrupted = Uint8Array.from(SYN_IP_HEADER);
    corrupted[8] = 63; // TTL changed, checksum not
    expect(isIpv4HeaderChecksumValid(corrupted)).toBe(false);
  });

  it('refuses bad versions, lengths and truncation with ParseError', () => {
    const v6 = Uint8Array.from(SYN_IP_HEADER);
    v6[0] = 0x65;
    expect(() => parseIpv4Packet(v6)).toThrow(ParseError);
    const shortIhl = Uint8Array.from(SYN_IP_HEADER);
    shortIhl[0] = 0x44;
    expect(() => parseIpv4Packet(shortIhl)).toThrow(ParseError);
    expect(() => parseIpv4Packet(SYN_IP_HEADER)).toThrow(/total length/); // says 60, has 20
  });

  it('round-trips (options and checksum included)', () => {
    const arbitraryPacket: fc.Arbitrary<Ipv4Packet> = fc.record({
      typeOfService: fc.integer({ min: 0, max: 255 }),
      identification: uint16,
      dontFragment: fc.boolean(),
      moreFragments: fc.boolean(),
      reservedFlag: fc.boolean(),
      fragmentOffset: fc.integer({ min: 0, max: 0x1fff }),
      ttl: fc.integer({ min: 0, max: 255 }),
      protocol: fc.integer({ min: 0, max: 255 }),
      source: arbitraryIpv4,
      destination: arbitraryIpv4,
      options: fc.integer({ min: 0, max: 10 }).chain((words) => fc.uint8Array({ minLength: words * 4, maxLength: words * 4 })),
      payload: fc.uint8Array({ maxLength: 64 }),
    });
    fc.assert(
      fc.property(arbitraryPacket, (packet) => {
        const bytes = serializeIpv4Packet(packet);
        expect(isIpv4HeaderChecksumValid(bytes)).toBe(true);
        const { headerChecksum, ...parsed } = parseIpv4Packet(bytes);
        expect(parsed).toEqual(packet);
        // And the other way: bytes → packet → the same bytes, checksum given verbatim.
        expect(serializeIpv4Packet({ ...parsed, headerChecksum })).toEqual(bytes);
      }),
    );
  });
});

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
