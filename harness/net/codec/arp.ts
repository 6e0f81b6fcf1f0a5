import { formatIpv4, parseIpv4, type Ipv4Address } from './address.ts';
import { formatMac, writeMac, type MacAddress } from './mac.ts';
import { ParseError, requireLength } from './parse-error.ts';

/** ARP for IPv4 over Ethernet (RFC 826) — the only kind the lab wire carries. */
export const ARP_PACKET_LENGTH = 28;

export const ArpOperation = { request: 1, reply: 2 } as const;

export interface ArpPacket {
  /** 1 = request, 2 = reply; other values are kept so odd packets can be inspected. */
  operation: number;
  senderMac: MacAddress;
  senderIp: Ipv4Address;
  targetMac: MacAddress;
  targetIp: Ipv4Address;
}

const HARDWARE_ETHERNET = 1;
const PROTOCOL_IPV4 = 0x0800;

export function parseArpPacket(bytes: Uint8Array): ArpPacket {
  requireLength('arp', bytes, ARP_PACKET_LENGTH, 'packet');
  const hardwareType = (bytes[0]! << 8) | bytes[1]!;
  const protocolType = (bytes[2]! << 8) | bytes[3]!;
  if (hardwareType !== HARDWARE_ETHERNET || protocolType !== PROTOCOL_IPV4 || bytes[4] !== 6 || bytes[5] !== 4) {
    throw new ParseError(
      'arp',
      `only Ethernet/IPv4 ARP is supported (htype ${hardwareType}, ptype 0x${protocolType.toString(16)}, ` +
        `hlen ${bytes[4]}, plen ${bytes[5]})`,
    );
  }
  // Bytes past 28 are Ethernet padding and are ignored.
  return {
    operation: (bytes[6]! << 8) | bytes[7]!,
    senderMac: formatMac(bytes, 8),
    senderIp: formatIpv4(bytes, 14),
    targetMac: formatMac(bytes, 18),
    targetIp: formatIpv4(bytes, 24),
  };
}

export function serializeArpPacket(packet: ArpPacket): Uint8Array {
  const bytes = new Uint8Array(ARP_PACKET_LENGTH);
  bytes.set([0, HARDWARE_ETHERNET, PROTOCOL_IPV4 >> 8, PROTOCOL_IPV4 & 0xff, 6, 4]);
  bytes[6] = packet.operation >> 8;
  bytes[7] = packet.operation & 0xff;
  writeMac(bytes, 8, packet.senderMac);
  bytes.set(parseIpv4(packet.senderIp), 14);
  writeMac(bytes, 18, packet.targetMac);
  bytes.set(parseIpv4(packet.targetIp), 24);
  return bytes;
}
