import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseArpPacket } from '../../../../harness/net/codec/arp.ts';
import { parseEthernetFrame } from '../../../../harness/net/codec/ethernet.ts';
import { parseIpv4Packet } from '../../../../harness/net/codec/ipv4.ts';
import { parseIpv6Packet } from '../../../../harness/net/codec/ipv6.ts';
import { parseIcmpv6Message, parseNeighborAdvertisement, parseNeighborSolicitation } from '../../../../harness/net/codec/icmpv6.ts';
import { parseUdpDatagram } from '../../../../harness/net/codec/udp.ts';
import { ParseError } from '../../../../harness/net/codec/parse-error.ts';
import { parseTcpOptions } from '../../../../harness/net/codec/tcp-options.ts';
import { parseTcpSegment } from '../../../../harness/net/codec/tcp.ts';
import { decodeToaOption } from '../../../../harness/net/codec/toa-option.ts';
import { parseIpv6, parseIpv4 } from '../../../../harness/net/codec/address.ts';
import { parseMac } from '../../../../harness/net/codec/mac.ts';

/** Everything that reads untrusted bytes or text. */
const byteParsers: Record<string, (bytes: Uint8Array) => unknown> = {
  parseEthernetFrame,
  parseArpPacket,
  parseIpv4Packet,
  parseIpv6Packet,
  parseIcmpv6Message,
  parseNeighborSolicitation,
  parseNeighborAdvertisement,
  parseUdpDatagram,
  parseTcpSegment,
  parseTcpOptions,
  decodeToaOption,
};
const textParsers: Record<string, (text: string) => unknown> = { parseIpv4, parseIpv6, parseMac };

function throwsOnlyParseError(parse: () => unknown): void {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(ParseError);
  }
}

describe('parsers on arbitrary input', () => {
  for (const [name, parse] of Object.entries(byteParsers)) {
    it(`${name} throws nothing but ParseError`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 96 }), (bytes) => throwsOnlyParseError(() => parse(bytes))),
        { numRuns: 2000 },
      );
    });
  }

  it('IPv4 and TCP parsers survive plausible-looking headers with hostile fields', () => {
    // Random bytes rarely start with a valid version nibble; force it so deeper paths run.
    const ipLike = fc.uint8Array({ minLength: 20, maxLength: 80 }).map((bytes) => {
      const copy = Uint8Array.from(bytes);
      copy[0] = 0x40 | (copy[0]! & 0x0f);
      return copy;
    });
    fc.assert(
      fc.property(ipLike, (bytes) => {
        throwsOnlyParseError(() => parseIpv4Packet(bytes));
        throwsOnlyParseError(() => parseTcpSegment(bytes));
      }),
      { numRuns: 2000 },
    );
  });

  it('IPv6 and Neighbor Discovery parsers survive plausible headers and option lists', () => {
    const ipv6Like = fc.uint8Array({ minLength: 40, maxLength: 96 }).map((bytes) => {
      const copy = Uint8Array.from(bytes);
      copy[0] = 0x60 | (copy[0]! & 0x0f);
      copy[4] = 0;
      copy[5] = Math.min(copy[5]!, copy.length - 40); // mostly in range, so the payload path runs
      return copy;
    });
    fc.assert(fc.property(ipv6Like, (bytes) => throwsOnlyParseError(() => parseIpv6Packet(bytes))), { numRuns: 2000 });
    // ND bodies: 20 fixed bytes, then options whose length bytes are small (the interesting cases).
    const ndLike = fc.tuple(fc.uint8Array({ minLength: 20, maxLength: 20 }), fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })), { maxLength: 6 })).map(
      ([fixed, options]) => Uint8Array.from([...fixed, ...options.flatMap(([type, length]) => [type, length, ...new Array<number>(Math.max(0, length * 8 - 2)).fill(0xab)])]),
    );
    fc.assert(
      fc.property(ndLike, (bytes) => {
        throwsOnlyParseError(() => parseNeighborSolicitation(bytes));
        throwsOnlyParseError(() => parseNeighborAdvertisement(bytes));
      }),
      { numRuns: 2000 },
    );
  });

  for (const [name, parse] of Object.entries(textParsers)) {
    it(`${name} throws nothing but ParseError`, () => {
      const textish = fc.oneof(fc.string(), fc.stringMatching(/^[0-9a-f:.]{0,45}$/));
      fc.assert(fc.property(textish, (text) => throwsOnlyParseError(() => parse(text))), { numRuns: 2000 });
    });
  }
});
