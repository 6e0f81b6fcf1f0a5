/**
 * Framing of QEMU's `-netdev stream` (and `-netdev socket`) backends: every Ethernet frame is
 * preceded by its length as a 4-byte big-endian integer. No vnet header, no FCS, no padding.
 * A byte stream may merge several frames into one read or split one frame across reads, so the
 * decoder keeps partial input between pushes.
 */
export const STREAM_LENGTH_PREFIX = 4;

/**
 * QEMU refuses frames larger than its NET_BUFSIZE (4096 + 65536) and drops the connection; a
 * length above this means we lost sync with the stream, not a big frame.
 */
export const MAX_STREAM_FRAME_LENGTH = 4096 + 65536;

export class StreamFramingError extends Error {
  override readonly name = 'StreamFramingError';
}

/** Returns the length prefix and the frame as two buffers (so the frame is never copied). */
export function encodeStreamFrame(frame: Uint8Array): [Uint8Array, Uint8Array] {
  if (frame.length > MAX_STREAM_FRAME_LENGTH) {
    throw new StreamFramingError(`frame of ${frame.length} bytes exceeds QEMU's limit of ${MAX_STREAM_FRAME_LENGTH}`);
  }
  const prefix = new Uint8Array(STREAM_LENGTH_PREFIX);
  new DataView(prefix.buffer).setUint32(0, frame.length);
  return [prefix, frame];
}

/** Reassembles frames from arbitrary chunks of the stream. */
export class StreamFrameDecoder {
  /** Unconsumed input: a list of chunks, so a large frame split over many reads is copied once. */
  private pending: Uint8Array[] = [];
  private pendingLength = 0;

  /** Bytes held waiting for the rest of a frame. */
  get bufferedBytes(): number {
    return this.pendingLength;
  }

  /**
   * Feeds a chunk and returns every frame it completes, in order. Frames are subarrays of the
   * input where possible. Throws StreamFramingError on a length above the QEMU limit.
   */
  push(chunk: Uint8Array): Uint8Array[] {
    const frames: Uint8Array[] = [];
    let data = chunk;
    if (this.pendingLength > 0) {
      this.pending.push(chunk);
      this.pendingLength += chunk.length;
      const needed = this.bytesNeededForFirstFrame();
      if (needed === undefined || this.pendingLength < needed) return frames;
      // The held bytes were short of a frame before this chunk, so whatever is left over after
      // completing it lies entirely inside `chunk`: copy just the one frame, keep the rest as is.
      const leftover = this.pendingLength - needed;
      frames.push(this.joinPending(needed).subarray(STREAM_LENGTH_PREFIX));
      data = chunk.subarray(chunk.length - leftover);
    }
    let offset = 0;
    while (data.length - offset >= STREAM_LENGTH_PREFIX) {
      const length = readLength(data, offset);
      if (data.length - offset - STREAM_LENGTH_PREFIX < length) break;
      const start = offset + STREAM_LENGTH_PREFIX;
      frames.push(data.subarray(start, start + length));
      offset = start + length;
    }
    if (offset < data.length) {
      const rest = data.subarray(offset);
      this.pending = [rest];
      this.pendingLength = rest.length;
    }
    return frames;
  }

  /** Prefix + frame length of the first held frame, or undefined while its prefix is incomplete. */
  private bytesNeededForFirstFrame(): number | undefined {
    if (this.pendingLength < STREAM_LENGTH_PREFIX) return undefined;
    const prefix = this.joinedPrefix();
    return STREAM_LENGTH_PREFIX + readLength(prefix, 0);
  }

  private joinedPrefix(): Uint8Array {
    const first = this.pending[0]!;
    if (first.length >= STREAM_LENGTH_PREFIX) return first;
    const prefix = new Uint8Array(STREAM_LENGTH_PREFIX);
    let filled = 0;
    for (const part of this.pending) {
      const take = Math.min(part.length, STREAM_LENGTH_PREFIX - filled);
      prefix.set(part.subarray(0, take), filled);
      filled += take;
      if (filled === STREAM_LENGTH_PREFIX) break;
    }
    return prefix;
  }

  /** Copies the first `length` held bytes into one array and forgets everything held. */
  private joinPending(length: number): Uint8Array {
    const joined = new Uint8Array(length);
    let offset = 0;
    for (const part of this.pending) {
      const take = Math.min(part.length, length - offset);
      joined.set(part.subarray(0, take), offset);
      offset += take;
      if (offset === length) break;
    }
    this.pending = [];
    this.pendingLength = 0;
    return joined;
  }
}

function readLength(bytes: Uint8Array, offset: number): number {
  const length =
    ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;
  if (length > MAX_STREAM_FRAME_LENGTH) {
    throw new StreamFramingError(
      `length prefix ${length} exceeds QEMU's limit of ${MAX_STREAM_FRAME_LENGTH}: the stream is out of sync`,
    );
  }
  return length;
}
