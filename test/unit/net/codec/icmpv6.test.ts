import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseIpv6 } from '../../../../harness/net/codec/address.ts';
import { parseEthernetFrame } from '../../../../harness/net/codec/ethernet.ts';
import {
  encodeNeighborAdvertisement,
  encodeNeighborSolicitation,
  Icmpv6Type,
  isIcmpv6ChecksumValid,
  parseIcmpv6Message,
  parseNeighborAdvertisement,
  parseNeighborSolicitation,
  serializeIcmpv6Message,
} from '../../../../harness/net/codec/icmpv6.ts';
import { parseIpv6Packet } from '../../../../harness/net/codec/ipv6.ts';
import { ParseError } from '../../../../harness/net/codec/parse-error.ts';
import { arbitraryIpv6, arbitraryMac } from '../helpers/arbitraries.ts';
import { KERNEL, KERNEL_DAD_PROBE_FOR_OURS, KERNEL_NEIGHBOR_ADVERTISEMENT } from '../helpers/kernel-vectors.ts';

const ipOf = (frame: Uint8Array) => parseIpv6Packet(parseEthernetFrame(frame).payload);

describe('icmpv6 and neighbor discovery', () => {
  it("reads the kernel's Neighbor Advertisement, checksum included", () => {
    const ip = ipOf(KERNEL_NEIGHBOR_ADVERTISEMENT);
    expect(ip.hopLimit).toBe(255);
    expect(isIcmpv6ChecksumValid(ip.payload, parseIpv6(ip.source), parseIpv6(ip.destination))).toBe(true);
    const message = parseIcmpv6Message(ip.payload);
    expect(message).toMatchObject({ type: Icmpv6Type.neighborAdvertisement, code: 0, checksum: 0x37f8 });
    expect(parseNeighborAdvertisement(message.body)).toEqual({
      router: false,
      solicited: true,
      override: true,
      target: KERNEL.ipv6,
      targetLinkLayerAddress: KERNEL.mac,
    });
  });

  it('writes the same NA bytes the kernel did', () => {
    const ip = ipOf(KERNEL_NEIGHBOR_ADVERTISEMENT);
    const body = encodeNeighborAdvertisement({ router: false, solicited: true, override: true, target: KERNEL.ipv6, targetLinkLayerAddress: KERNEL.mac });
    const bytes = serializeIcmpv6Message({ type: Icmpv6Type.neighborAdvertisement, code: 0, body }, parseIpv6(ip.source), parseIpv6(ip.destination));
    expect(bytes).toEqual(ip.payload);
  });

  it("reads the kernel's DAD probe: no source MAC, a Nonce option skipped", () => {
    const ip = ipOf(KERNEL_DAD_PROBE_FOR_OURS);
    expect(ip.source).toBe('::');
    expect(isIcmpv6ChecksumValid(ip.payload, parseIpv6(ip.source), parseIpv6(ip.destination))).toBe(true);
    expect(parseNeighborSolicitation(parseIcmpv6Message(ip.payload).body)).toEqual({ target: KERNEL.peerIpv6 });
  });

  it('round-trips solicitations and advertisements', () => {
    fc.assert(
      fc.property(arbitraryIpv6, fc.option(arbitraryMac, { nil: undefined }), fc.boolean(), fc.boolean(), (target, mac, solicited, router) => {
        const ns = parseNeighborSolicitation(encodeNeighborSolicitation({ target, ...(mac && { sourceLinkLayerAddress: mac }) }));
        expect(ns).toEqual({ target, ...(mac && { sourceLinkLayerAddress: mac }) });
        const na = { router, solicited, override: !solicited, target, ...(mac && { targetLinkLayerAddress: mac }) };
        expect(parseNeighborAdvertisement(encodeNeighborAdvertisement(na))).toEqual(na);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses options of length 0 or running past the end (RFC 4861 §4.6)', () => {
    const body = encodeNeighborSolicitation({ target: '2001:db8::2', sourceLinkLayerAddress: '52:54:00:00:02:0a' });
    const zeroLength = Uint8Array.from(body);
    zeroLength[21] = 0;
    expect(() => parseNeighborSolicitation(zeroLength)).toThrow(ParseError);
    const tooLong = Uint8Array.from(body);
    tooLong[21] = 2;
    expect(() => parseNeighborSolicitation(tooLong)).toThrow(/runs past/);
    expect(() => parseNeighborAdvertisement(body.subarray(0, 19))).toThrow(ParseError);
  });
});
