import { openSync, writeSync, closeSync } from 'node:fs';
import type { FrameTap } from './frame-tap.ts';

/**
 * Classic libpcap file format (not pcapng): a 24-byte global header, then per frame a 16-byte
 * record header and the frame. Written little-endian with the standard magic, which tshark,
 * tcpdump and Wireshark all read. Link type 1 = Ethernet.
 */
const PCAP_MAGIC = 0xa1b2c3d4;
const LINKTYPE_ETHERNET = 1;
const SNAPLEN = 0xffff;

export function encodePcapGlobalHeader(): Uint8Array {
  const header = new Uint8Array(24);
  const view = new DataView(header.buffer);
  view.setUint32(0, PCAP_MAGIC, true);
  view.setUint16(4, 2, true); // version 2.4
  view.setUint16(6, 4, true);
  view.setInt32(8, 0, true); // timezone offset: UTC
  view.setUint32(12, 0, true); // timestamp accuracy
  view.setUint32(16, SNAPLEN, true);
  view.setUint32(20, LINKTYPE_ETHERNET, true);
  return header;
}

export function encodePcapRecordHeader(frameLength: number, timestampMs: number): Uint8Array {
  const header = new Uint8Array(16);
  const view = new DataView(header.buffer);
  const captured = Math.min(frameLength, SNAPLEN);
  view.setUint32(0, Math.floor(timestampMs / 1000), true);
  view.setUint32(4, Math.round((timestampMs % 1000) * 1000), true);
  view.setUint32(8, captured, true);
  view.setUint32(12, frameLength, true);
  return header;
}

/**
 * Appends frames to a pcap file as they pass. Writes synchronously so a capture is complete
 * even if the run crashes right after the interesting frame — it is a debugging aid, not a hot
 * path (leave it off in benchmarks).
 */
export class PcapWriter {
  private fd: number | undefined;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
    writeSync(this.fd, encodePcapGlobalHeader());
  }

  write(frame: Uint8Array, timestampMs = Date.now()): void {
    if (this.fd === undefined) return;
    writeSync(this.fd, encodePcapRecordHeader(frame.length, timestampMs));
    writeSync(this.fd, frame, 0, Math.min(frame.length, SNAPLEN));
  }

  /** A FrameTap that records both directions into this file. */
  get tap(): FrameTap {
    return (frame, _direction, timestampMs) => this.write(frame, timestampMs);
  }

  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}
