import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  encodeStreamFrame,
  MAX_STREAM_FRAME_LENGTH,
  StreamFrameDecoder,
  StreamFramingError,
} from '../../../../harness/net/wire/stream-framing.ts';
import { hex } from '../helpers/arbitraries.ts';

function encodeAll(frames: Uint8Array[]): Uint8Array {
  const parts = frames.flatMap((frame) => encodeStreamFrame(frame));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

describe('QEMU stream framing', () => {
  it('prefixes a 42-byte ARP reply with 00 00 00 2a', () => {
    const [prefix, body] = encodeStreamFrame(new Uint8Array(42));
    expect(prefix).toEqual(hex('00 00 00 2a'));
    expect(body.length).toBe(42);
  });

  it('reassembles frames whatever the read boundaries', () => {
    const arbitraryFrames = fc.array(fc.uint8Array({ maxLength: 1600 }), { maxLength: 8 });
    const arbitraryCuts = fc.array(fc.nat(), { maxLength: 12 });
    fc.assert(
      fc.property(arbitraryFrames, arbitraryCuts, (frames, cuts) => {
        const stream = encodeAll(frames);
        const points = [...new Set(cuts.map((cut) => cut % (stream.length + 1)))].sort((a, b) => a - b);
        const decoder = new StreamFrameDecoder();
        const received: Uint8Array[] = [];
        let start = 0;
        for (const point of [...points, stream.length]) {
          received.push(...decoder.push(stream.subarray(start, point)));
          start = point;
        }
        expect(received.map((f) => Array.from(f))).toEqual(frames.map((f) => Array.from(f)));
        expect(decoder.bufferedBytes).toBe(0);
      }),
    );
  });

  it('handles a prefix split byte by byte', () => {
    const decoder = new StreamFrameDecoder();
    const stream = encodeAll([hex('01 02 03')]);
    const out = [...stream].flatMap((byte) => decoder.push(Uint8Array.of(byte)));
    expect(out).toEqual([hex('01 02 03')]);
  });

  it('fails loudly when the stream is out of sync', () => {
    const decoder = new StreamFrameDecoder();
    expect(() => decoder.push(hex('45 00 00 3c 1c 46'))).toThrow(StreamFramingError);
    const split = new StreamFrameDecoder();
    expect(split.push(hex('ff ff'))).toEqual([]);
    expect(() => split.push(hex('ff ff 00'))).toThrow(StreamFramingError);
    expect(() => encodeStreamFrame(new Uint8Array(MAX_STREAM_FRAME_LENGTH + 1))).toThrow(StreamFramingError);
  });
});
