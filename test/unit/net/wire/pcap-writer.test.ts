import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcapWriter } from '../../../../harness/net/wire/pcap-writer.ts';
import { hex } from '../helpers/arbitraries.ts';

describe('pcap writer', () => {
  it('writes the libpcap global header and one record per frame', () => {
    const dir = mkdtempSync(join(tmpdir(), 'toa-lab-pcap-'));
    try {
      const path = join(dir, 'lab.pcap');
      const writer = new PcapWriter(path);
      writer.write(hex('ff ff ff ff ff ff 52 54 00 12 34 56 08 06'), 1_700_000_000_250);
      writer.close();
      const bytes = readFileSync(path);
      // magic a1b2c3d4 (LE), v2.4, tz 0, sigfigs 0, snaplen 65535, linktype 1 (Ethernet)
      expect(bytes.subarray(0, 24)).toEqual(Buffer.from(hex('d4 c3 b2 a1 02 00 04 00 00 00 00 00 00 00 00 00 ff ff 00 00 01 00 00 00')));
      const record = bytes.subarray(24, 40);
      expect(record.readUInt32LE(0)).toBe(1_700_000_000);
      expect(record.readUInt32LE(4)).toBe(250_000);
      expect(record.readUInt32LE(8)).toBe(14);
      expect(record.readUInt32LE(12)).toBe(14);
      expect(bytes.length).toBe(24 + 16 + 14);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
