import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ArpOperation, parseArpPacket, serializeArpPacket, type ArpPacket } from '../../../../harness/net/codec/arp.ts';
import { EtherType, parseEthernetFrame, serializeEthernetFrame } from '../../../../harness/net/codec/ethernet.ts';
import { formatMac, parseMac } from '../../../../harness/net/codec/mac.ts';
import { ParseError } from '../../../../harness/net/codec/parse-error.ts';
import { arbitraryIpv4, arbitraryMac, hex } from '../helpers/arbitraries.ts';

// A guest (52:54:00:12:34:56, 192.0.2.10) asking who has 192.0.2.2, as it appears on the lab
// wire: broadcast destination, EtherType 0x0806, 28-byte ARP body, no padding (42 bytes).
const ARP_REQUEST_FRAME = hex(`
  ff ff ff ff ff ff  52 54 00 12 34 56  08 06
  00 01  08 00  06  04  00 01
  52 54 00 12 34 56  c0 00 02 0a
  00 00 00 00 00 00  c0 00 02 02
`);

describe('ethernet', () => {
  it('parses the header of a real ARP request frame', () => {
    const frame = parseEthernetFrame(ARP_REQUEST_FRAME);
    expect(frame.destination).toBe('ff:ff:ff:ff:ff:ff');
    expect(frame.source).toBe('52:54:00:12:34:56');
    expect(frame.etherType).toBe(EtherType.arp);
    expect(frame.payload.length).toBe(28);
  });

  it('round-trips', () => {
    fc.assert(
      fc.property(arbitraryMac, arbitraryMac, fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ maxLength: 100 }), (destination, source, etherType, payload) => {
        const frame = { destination, source, etherType, payload };
        expect(parseEthernetFrame(serializeEthernetFrame(frame))).toEqual(frame);
      }),
    );
  });

  it('refuses a runt with ParseError', () => {
    expect(() => parseEthernetFrame(new Uint8Array(13))).toThrow(ParseError);
  });
});

describe('arp', () => {
  it('decodes and re-encodes a real request byte for byte', () => {
    const body = ARP_REQUEST_FRAME.subarray(14);
    const packet = parseArpPacket(body);
    expect(packet).toEqual({
      operation: ArpOperation.request,
      senderMac: '52:54:00:12:34:56',
      senderIp: '192.0.2.10',
      targetMac: '00:00:00:00:00:00',
      targetIp: '192.0.2.2',
    });
    expect(serializeArpPacket(packet)).toEqual(body);
  });

  it('ignores Ethernet padding after the 28 bytes', () => {
    const padded = new Uint8Array(46);
    padded.set(ARP_REQUEST_FRAME.subarray(14));
    expect(parseArpPacket(padded).targetIp).toBe('192.0.2.2');
  });

  it('refuses non-Ethernet/IPv4 ARP', () => {
    const body = Uint8Array.from(ARP_REQUEST_FRAME.subarray(14));
    body[3] = 0xdd; // protocol type 0x08dd
    expect(() => parseArpPacket(body)).toThrow(ParseError);
  });

  it('round-trips', () => {
    const arbitraryArp: fc.Arbitrary<ArpPacket> = fc.record({
      operation: fc.integer({ min: 0, max: 0xffff }),
      senderMac: arbitraryMac,
      senderIp: arbitraryIpv4,
      targetMac: arbitraryMac,
      targetIp: arbitraryIpv4,
    });
    fc.assert(
      fc.property(arbitraryArp, (packet) => {
        expect(parseArpPacket(serializeArpPacket(packet))).toEqual(packet);
      }),
    );
  });
});

describe('mac', () => {
  it('normalises case and refuses junk', () => {
    expect(formatMac(parseMac('52:54:00:AB:cd:EF'))).toBe('52:54:00:ab:cd:ef');
    expect(() => parseMac('52:54:00:ab:cd')).toThrow(ParseError);
    expect(() => parseMac('52-54-00-ab-cd-ef')).toThrow(ParseError);
  });
});
