import { formatIpv6, parseIpv6, type Ipv6Address } from './address.ts';
import { foldChecksum, ipv6PseudoHeaderSum, sumWords } from './checksum.ts';
import { Ipv6NextHeader } from './ipv6.ts';
import { formatMac, writeMac, type MacAddress } from './mac.ts';
import { ParseError, requireLength } from './parse-error.ts';

/**
 * ICMPv6 (RFC 4443) and the part of Neighbor Discovery (RFC 4861) the lab needs: Neighbor
 * Solicitation and Advertisement with their link-layer address options — IPv6's ARP.
 */
export const ICMPV6_HEADER_LENGTH = 4;

export const Icmpv6Type = {
  destinationUnreachable: 1,
  echoRequest: 128,
  echoReply: 129,
  routerSolicitation: 133,
  routerAdvertisement: 134,
  neighborSolicitation: 135,
  neighborAdvertisement: 136,
} as const;

/** Neighbor Discovery messages are only valid with this hop limit: proof they were not routed. */
export const ND_HOP_LIMIT = 255;

export interface Icmpv6Message {
  type: number;
  code: number;
  /** As found on the wire (parse) or to be written verbatim (serialize); omit to compute. */
  checksum?: number;
  /** Everything after type, code and checksum. */
  body: Uint8Array;
}

/** Parses an ICMPv6 message (an IPv6 payload). The checksum is not verified here. */
export function parseIcmpv6Message(bytes: Uint8Array): Icmpv6Message {
  requireLength('icmpv6', bytes, ICMPV6_HEADER_LENGTH, 'header');
  return { type: bytes[0]!, code: bytes[1]!, checksum: (bytes[2]! << 8) | bytes[3]!, body: bytes.subarray(ICMPV6_HEADER_LENGTH) };
}

/** ICMPv6's checksum covers the IPv6 pseudo-header (RFC 4443 §2.3); addresses are 16 bytes each. */
export function isIcmpv6ChecksumValid(messageBytes: Uint8Array, source: Uint8Array, destination: Uint8Array): boolean {
  const pseudo = ipv6PseudoHeaderSum(source, destination, Ipv6NextHeader.icmpv6, messageBytes.length);
  return foldChecksum(sumWords(messageBytes, 0, messageBytes.length, pseudo)) === 0;
}

/** Writes the message at `offset`, computing the checksum unless given; returns the offset past it. */
export function writeIcmpv6Message(target: Uint8Array, offset: number, message: Icmpv6Message, source: Uint8Array, destination: Uint8Array): number {
  const length = ICMPV6_HEADER_LENGTH + message.body.length;
  target[offset] = message.type;
  target[offset + 1] = message.code;
  target[offset + 2] = 0;
  target[offset + 3] = 0;
  target.set(message.body, offset + ICMPV6_HEADER_LENGTH);
  const pseudo = ipv6PseudoHeaderSum(source, destination, Ipv6NextHeader.icmpv6, length);
  const checksum = message.checksum ?? foldChecksum(sumWords(target, offset, offset + length, pseudo));
  target[offset + 2] = checksum >> 8;
  target[offset + 3] = checksum & 0xff;
  return offset + length;
}

export function serializeIcmpv6Message(message: Icmpv6Message, source: Uint8Array, destination: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(ICMPV6_HEADER_LENGTH + message.body.length);
  writeIcmpv6Message(bytes, 0, message, source, destination);
  return bytes;
}

// ─── Neighbor Discovery ────────────────────────────────────────────────────────────────────

const NdOptionType = { sourceLinkLayerAddress: 1, targetLinkLayerAddress: 2 } as const;
/** Reserved (4) + target address (16): the fixed part of both NS and NA bodies. */
const ND_FIXED_BODY_LENGTH = 20;

export interface NeighborSolicitation {
  target: Ipv6Address;
  /** Absent in DAD probes (their source is ::) — RFC 4861 §4.3. */
  sourceLinkLayerAddress?: MacAddress;
}

export interface NeighborAdvertisement {
  router: boolean;
  /** An answer to a solicitation (as opposed to an announcement). */
  solicited: boolean;
  /** Replace a cached link-layer address. */
  override: boolean;
  target: Ipv6Address;
  targetLinkLayerAddress?: MacAddress;
}

/** Reads the NS body (after the 4-byte ICMPv6 header). */
export function parseNeighborSolicitation(body: Uint8Array): NeighborSolicitation {
  requireLength('ndp', body, ND_FIXED_BODY_LENGTH, 'neighbor solicitation');
  const solicitation: NeighborSolicitation = { target: formatIpv6(body, 4) };
  const mac = findLinkLayerOption(body.subarray(ND_FIXED_BODY_LENGTH), NdOptionType.sourceLinkLayerAddress);
  if (mac !== undefined) solicitation.sourceLinkLayerAddress = mac;
  return solicitation;
}

/** Reads the NA body (after the 4-byte ICMPv6 header). */
export function parseNeighborAdvertisement(body: Uint8Array): NeighborAdvertisement {
  requireLength('ndp', body, ND_FIXED_BODY_LENGTH, 'neighbor advertisement');
  const flags = body[0]!;
  const advertisement: NeighborAdvertisement = {
    router: (flags & 0x80) !== 0,
    solicited: (flags & 0x40) !== 0,
    override: (flags & 0x20) !== 0,
    target: formatIpv6(body, 4),
  };
  const mac = findLinkLayerOption(body.subarray(ND_FIXED_BODY_LENGTH), NdOptionType.targetLinkLayerAddress);
  if (mac !== undefined) advertisement.targetLinkLayerAddress = mac;
  return advertisement;
}

export function encodeNeighborSolicitation(solicitation: NeighborSolicitation): Uint8Array {
  return encodeNdBody(0, solicitation.target, NdOptionType.sourceLinkLayerAddress, solicitation.sourceLinkLayerAddress);
}

export function encodeNeighborAdvertisement(advertisement: NeighborAdvertisement): Uint8Array {
  const flags = (advertisement.router ? 0x80 : 0) | (advertisement.solicited ? 0x40 : 0) | (advertisement.override ? 0x20 : 0);
  return encodeNdBody(flags, advertisement.target, NdOptionType.targetLinkLayerAddress, advertisement.targetLinkLayerAddress);
}

function encodeNdBody(flags: number, target: Ipv6Address, optionType: number, mac: MacAddress | undefined): Uint8Array {
  const body = new Uint8Array(ND_FIXED_BODY_LENGTH + (mac === undefined ? 0 : 8));
  body[0] = flags;
  body.set(parseIpv6(target), 4);
  if (mac !== undefined) {
    body[ND_FIXED_BODY_LENGTH] = optionType;
    body[ND_FIXED_BODY_LENGTH + 1] = 1; // in units of 8 bytes: type, length, 6-byte MAC
    writeMac(body, ND_FIXED_BODY_LENGTH + 2, mac);
  }
  return body;
}

/**
 * The MAC in the first link-layer address option of `type`. An option of length 0 makes the
 * whole message invalid (RFC 4861 §4.6: it would loop forever), so it is a ParseError.
 */
function findLinkLayerOption(options: Uint8Array, type: number): MacAddress | undefined {
  for (let i = 0; i + 2 <= options.length; ) {
    const length = options[i + 1]! * 8;
    if (length === 0) throw new ParseError('ndp', `option ${options[i]} with length 0`);
    if (i + length > options.length) throw new ParseError('ndp', `option ${options[i]} runs past the message`);
    if (options[i] === type && length >= 8) return formatMac(options, i + 2);
    i += length;
  }
  return undefined;
}
