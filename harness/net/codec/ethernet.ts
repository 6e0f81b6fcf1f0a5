import { formatMac, writeMac, type MacAddress } from './mac.ts';
import { requireLength } from './parse-error.ts';

/**
 * Ethernet II framing as it appears on the lab wire: no preamble, no FCS, no padding to the
 * 60-byte minimum (QEMU's stream netdev passes frames exactly as the guest's driver built them).
 */
export const ETHERNET_HEADER_LENGTH = 14;

export const EtherType = {
  ipv4: 0x0800,
  arp: 0x0806,
  ipv6: 0x86dd,
} as const;

export interface EthernetFrame {
  destination: MacAddress;
  source: MacAddress;
  etherType: number;
  /** Everything after the header, trailing padding included (the upper layer knows its length). */
  payload: Uint8Array;
}

export function parseEthernetFrame(bytes: Uint8Array): EthernetFrame {
  requireLength('ethernet', bytes, ETHERNET_HEADER_LENGTH, 'header');
  return {
    destination: formatMac(bytes, 0),
    source: formatMac(bytes, 6),
    etherType: (bytes[12]! << 8) | bytes[13]!,
    payload: bytes.subarray(ETHERNET_HEADER_LENGTH),
  };
}

/** Writes the 14-byte header at `offset`; returns the offset just past it. */
export function writeEthernetHeader(
  target: Uint8Array,
  offset: number,
  header: Omit<EthernetFrame, 'payload'>,
): number {
  writeMac(target, offset, header.destination);
  writeMac(target, offset + 6, header.source);
  target[offset + 12] = header.etherType >> 8;
  target[offset + 13] = header.etherType & 0xff;
  return offset + ETHERNET_HEADER_LENGTH;
}

export function serializeEthernetFrame(frame: EthernetFrame): Uint8Array {
  const bytes = new Uint8Array(ETHERNET_HEADER_LENGTH + frame.payload.length);
  writeEthernetHeader(bytes, 0, frame);
  bytes.set(frame.payload, ETHERNET_HEADER_LENGTH);
  return bytes;
}
