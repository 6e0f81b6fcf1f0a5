import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseIpv6 } from '../../../../harness/net/codec/address.ts';
import { parseEthernetFrame } from '../../../../harness/net/codec/ethernet.ts';
import {
  ipv6MulticastMac,
  parseIpv6Packet,
  serializeIpv6Packet,
  solicitedNodeAddress,
  type Ipv6Packet,
} from '../../../../harness/net/codec/ipv6.ts';
import { ParseError } from '../../../../harness/net/codec/parse-error.ts';
import { isTcpChecksumValid, parseTcpSegment, serializeTcpSegment } from '../../../../harness/net/codec/tcp.ts';
import { arbitraryIpv6 } from '../helpers/arbitraries.ts';
import { KERNEL, KERNEL_IPV6_SYN_ACK } from '../helpers/kernel-vectors.ts';

const kernelPacket = (): Uint8Array => parseEthernetFrame(KERNEL_IPV6_SYN_ACK).payload;

describe('ipv6', () => {
  it("parses the kernel's SYN-ACK header", () => {
    const packet = parseIpv6Packet(kernelPacket());
    expect(packet).toMatchObject({
      trafficClass: 0,
      flowLabel: 0x67e9b,
      nextHeader: 6,
      hopLimit: 64,
      source: KERNEL.ipv6,
      destination: KERNEL.peerIpv6,
    });
    expect(packet.payload.length).toBe(28);
  });

  it("checks the kernel's TCP checksum over the IPv6 pseudo-header, and writes the same one", () => {
    const packet = parseIpv6Packet(kernelPacket());
    const source = parseIpv6(packet.source);
    const destination = parseIpv6(packet.destination);
    expect(isTcpChecksumValid(packet.payload, source, destination)).toBe(true);
    const segment = parseTcpSegment(packet.payload);
    expect(segment.options).toContainEqual({ type: 'mss', mss: 1440 });
    const { checksum: _, ...withoutChecksum } = segment;
    expect(serializeTcpSegment(withoutChecksum, source, destination)).toEqual(packet.payload);
    // The pseudo-header is really covered: another destination fails.
    expect(isTcpChecksumValid(packet.payload, source, parseIpv6('2001:db8::11'))).toBe(false);
  });

  it("re-serializes the kernel's packet byte for byte", () => {
    expect(serializeIpv6Packet(parseIpv6Packet(kernelPacket()))).toEqual(kernelPacket());
  });

  it('round-trips any header', () => {
    const packet = fc.record({
      trafficClass: fc.integer({ min: 0, max: 255 }),
      flowLabel: fc.integer({ min: 0, max: 0xfffff }),
      nextHeader: fc.integer({ min: 0, max: 255 }),
      hopLimit: fc.integer({ min: 0, max: 255 }),
      source: arbitraryIpv6,
      destination: arbitraryIpv6,
      payload: fc.uint8Array({ maxLength: 64 }),
    });
    fc.assert(
      fc.property(packet, (p: Ipv6Packet) => {
        const bytes = serializeIpv6Packet(p);
        expect(parseIpv6Packet(bytes)).toEqual(p);
        // Link-layer padding after the payload is cut off.
        expect(parseIpv6Packet(Uint8Array.from([...bytes, 0, 0, 0])).payload).toEqual(p.payload);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses the wrong version and truncation with ParseError', () => {
    const v4 = Uint8Array.from(kernelPacket());
    v4[0] = 0x45;
    expect(() => parseIpv6Packet(v4)).toThrow(ParseError);
    expect(() => parseIpv6Packet(kernelPacket().subarray(0, 39))).toThrow(ParseError);
    expect(() => parseIpv6Packet(kernelPacket().subarray(0, 60))).toThrow(/payload length/);
  });

  it('maps addresses to solicited-node groups and multicast MACs (RFC 4291 §2.7.1, RFC 2464 §7)', () => {
    expect(solicitedNodeAddress('2001:db8::2')).toBe('ff02::1:ff00:2');
    expect(solicitedNodeAddress('fe80::5054:ff:fe00:20a')).toBe('ff02::1:ff00:20a');
    expect(solicitedNodeAddress('2001:db8:1::abcd:ef12:3456')).toBe('ff02::1:ff12:3456');
    expect(ipv6MulticastMac('ff02::1:ff00:2')).toBe('33:33:ff:00:00:02');
    expect(ipv6MulticastMac('ff02::1')).toBe('33:33:00:00:00:01');
  });
});
