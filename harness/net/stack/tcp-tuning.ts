/**
 * Knobs of the userspace TCP. Defaults suit a QEMU/TCG guest: RTTs from a few ms to 100+ ms and
 * occasional one-second stalls, on a wire nobody else shares (so no congestion control, and a
 * short TIME-WAIT).
 */
export interface TcpTuning {
  /** MSS we advertise and the cap on what we send (MTU 1500 − 20 IPv4 − 20 TCP). */
  mss: number;
  /** Receive buffer; our advertised window is what is left of it. */
  receiveBufferSize: number;
  /** Unacknowledged bytes we hold before a write waits (stream backpressure). */
  sendBufferSize: number;
  initialRtoMs: number;
  minRtoMs: number;
  maxRtoMs: number;
  /** Retransmissions of one segment (SYN included) before the connection fails with ETIMEDOUT. */
  maxRetransmissions: number;
  /** Duplicate ACKs that trigger a fast retransmit. */
  duplicateAckThreshold: number;
  /** How long TIME-WAIT lasts; the lab owns the segment, so no need for 2 × MSL. */
  timeWaitMs: number;
  /** Returns a fresh initial sequence number (tests may make it deterministic). */
  initialSequenceNumber: () => number;
}

export const DEFAULT_TCP_TUNING: Readonly<TcpTuning> = Object.freeze({
  mss: 1460,
  receiveBufferSize: 256 * 1024,
  sendBufferSize: 256 * 1024,
  initialRtoMs: 1000,
  minRtoMs: 200,
  maxRtoMs: 10_000,
  maxRetransmissions: 8,
  duplicateAckThreshold: 3,
  timeWaitMs: 2000,
  initialSequenceNumber: () => Math.floor(Math.random() * 0x1_0000_0000) >>> 0,
});

export function resolveTcpTuning(overrides: Partial<TcpTuning> = {}): TcpTuning {
  const tuning: TcpTuning = { ...DEFAULT_TCP_TUNING, ...overrides };
  if (tuning.mss < 16 || tuning.mss > 65495) throw new RangeError(`mss ${tuning.mss} out of range 16..65495`);
  if (tuning.receiveBufferSize < 1 || tuning.receiveBufferSize > 0x3fff_c000) {
    throw new RangeError(`receiveBufferSize ${tuning.receiveBufferSize} out of range`);
  }
  if (tuning.minRtoMs > tuning.maxRtoMs) throw new RangeError('minRtoMs is above maxRtoMs');
  return tuning;
}

/** Smallest window-scale shift that lets the receive buffer be advertised (RFC 7323: ≤ 14). */
export function windowScaleFor(receiveBufferSize: number): number {
  let shift = 0;
  while (shift < 14 && receiveBufferSize >>> shift > 0xffff) shift++;
  return shift;
}
