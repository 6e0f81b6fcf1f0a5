import { seededRandom } from './seeded-random.ts';
import { WireListeners, type Wire } from './wire.ts';

/**
 * Conditions applied to frames travelling in one direction of a memory wire. Everything is
 * deterministic for a given seed, so a retransmission test fails the same way every time.
 */
export interface LinkConditions {
  /** Probability (0..1) that a frame is dropped. */
  lossRate?: number;
  /** Seed for the loss decisions (default 1). */
  seed?: number;
  /** Extra drop rule, called with the frame and its 0-based index in this direction. */
  dropFrame?: (frame: Uint8Array, index: number) => boolean;
  /** One-way delay in ms (frames keep their order). 0 = next event-loop turn. */
  delayMs?: number;
}

export interface MemoryWirePairOptions {
  /** Conditions for frames sent on the first wire (arriving at the second). */
  aToB?: LinkConditions;
  /** Conditions for frames sent on the second wire (arriving at the first). */
  bToA?: LinkConditions;
}

/** Counters for one direction, so tests can assert that loss actually happened. */
export interface LinkCounters {
  sent: number;
  dropped: number;
  delivered: number;
}

/**
 * One end of an in-memory cable. Frames are delivered asynchronously — batched on the next
 * `setImmediate` turn (or after `delayMs`) — never re-entrantly from inside `send`, so the
 * stacks on both ends see the same ordering of events as with a real socket, and node I/O
 * (the balancer's client sockets) is not starved by a ping-pong of microtasks.
 */
export class MemoryWire implements Wire {
  readonly counters: LinkCounters = { sent: 0, dropped: 0, delivered: 0 };
  private readonly listeners = new WireListeners();
  private peer: MemoryWire | undefined;
  private queue: Uint8Array[] = [];
  private flushScheduled = false;
  private readonly random: () => number;

  constructor(private readonly conditions: LinkConditions = {}) {
    this.random = seededRandom(conditions.seed ?? 1);
  }

  /** Connects two ends; used by `createMemoryWirePair`. */
  static connect(a: MemoryWire, b: MemoryWire): void {
    a.peer = b;
    b.peer = a;
  }

  get closed(): boolean {
    return this.listeners.closed;
  }

  send(frame: Uint8Array): void {
    const peer = this.peer;
    if (this.closed || !peer) return;
    const index = this.counters.sent++;
    const { lossRate = 0, dropFrame, delayMs = 0 } = this.conditions;
    if ((lossRate > 0 && this.random() < lossRate) || dropFrame?.(frame, index)) {
      this.counters.dropped++;
      return;
    }
    this.counters.delivered++;
    if (delayMs > 0) {
      setTimeout(() => peer.receive(frame), delayMs);
      return;
    }
    this.queue.push(frame);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush(peer));
    }
  }

  onFrame(listener: (frame: Uint8Array) => void): () => void {
    return this.listeners.onFrame(listener);
  }

  onClose(listener: (error?: Error) => void): () => void {
    return this.listeners.onClose(listener);
  }

  /** Unplugs the cable: both ends close. */
  async close(): Promise<void> {
    this.listeners.markClosed();
    this.queue = [];
    this.peer?.listeners.markClosed();
  }

  private flush(peer: MemoryWire): void {
    this.flushScheduled = false;
    const batch = this.queue;
    this.queue = [];
    for (const frame of batch) peer.receive(frame);
  }

  private receive(frame: Uint8Array): void {
    if (!this.closed) this.listeners.deliver(frame);
  }
}

/** Two connected in-memory wires, e.g. one for the balancer's stack and one for a test peer. */
export function createMemoryWirePair(options: MemoryWirePairOptions = {}): [MemoryWire, MemoryWire] {
  const a = new MemoryWire(options.aToB);
  const b = new MemoryWire(options.bToA);
  MemoryWire.connect(a, b);
  return [a, b];
}
