/**
 * The send queue: bytes the application has written and the peer has not yet acknowledged.
 * Kept as the application's own chunks (no copying on write); a segment that falls inside one
 * chunk is a zero-copy subarray, one that spans chunks is copied once.
 */
export class ByteQueue {
  private chunks: Uint8Array[] = [];
  /** Index of the first live chunk (dropping from the front of an array is O(n); this is O(1)). */
  private head = 0;
  /** Bytes of `chunks[head]` already discarded. */
  private headOffset = 0;
  private total = 0;

  get length(): number {
    return this.total;
  }

  append(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.total += chunk.length;
  }

  /** The bytes at `[offset, offset + length)` relative to the front of the queue. */
  read(offset: number, length: number): Uint8Array {
    if (offset < 0 || length < 0 || offset + length > this.total) {
      throw new RangeError(`read(${offset}, ${length}) outside a queue of ${this.total} bytes`);
    }
    let index = this.head;
    let position = offset + this.headOffset;
    while (position >= this.chunks[index]!.length) {
      position -= this.chunks[index]!.length;
      index++;
    }
    const first = this.chunks[index]!;
    if (position + length <= first.length) return first.subarray(position, position + length);
    const joined = new Uint8Array(length);
    let filled = 0;
    for (; filled < length; index++, position = 0) {
      const chunk = this.chunks[index]!;
      const take = Math.min(chunk.length - position, length - filled);
      joined.set(chunk.subarray(position, position + take), filled);
      filled += take;
    }
    return joined;
  }

  /** Drops `count` bytes from the front (they were acknowledged). */
  discard(count: number): void {
    if (count > this.total) throw new RangeError(`discard(${count}) from a queue of ${this.total} bytes`);
    this.total -= count;
    let remaining = count + this.headOffset;
    while (this.head < this.chunks.length && remaining >= this.chunks[this.head]!.length) {
      remaining -= this.chunks[this.head]!.length;
      this.head++;
    }
    this.headOffset = remaining;
    if (this.total === 0) {
      // Everything acknowledged: let go of the chunks now (a connection in TIME-WAIT would
      // otherwise hold its last request for seconds).
      this.chunks.length = 0;
      this.head = 0;
      this.headOffset = 0;
      return;
    }
    // Compact once the dead prefix dominates, so memory does not grow with a long transfer.
    if (this.head > 64 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }
}
