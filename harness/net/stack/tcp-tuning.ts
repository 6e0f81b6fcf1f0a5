/**
 * Knobs of the userspace TCP. Defaults suit a QEMU/TCG guest: RTTs from a few ms to 100+ ms and
 * occasional one-second stalls, on a wire nobody else shares (so no congestion control, and a
 * short TIME-WAIT).
 */
export interface TcpTuning {
  /**
   * MSS we advertise and the cap on what we send. The host derives it from its MTU per family
   * (1500 − 20 IPv4 − 20 TCP = 1460; 1500 − 40 IPv6 − 20 TCP = 1440) unless one is given.
   */
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

/**
 * Initial sequence numbers that follow a clock (RFC 6528's M: one tick per 4 µs, here derived
 * from the millisecond clock), from a random start. Why not plain random: when the balancer's
 * ephemeral ports wrap (16,384 connections to one backend port), a new SYN may meet the
 * guest's TIME-WAIT for the same 4-tuple. Linux accepts it at once only if its sequence number
 * lies after the old connection's (tcp_timewait_state_process); a random ISN fails that half of
 * the time and costs a challenge ACK, a RST and a one-second SYN retransmission.
 */
const ISN_OFFSET = Math.floor(Math.random() * 0x1_0000_0000);
export function clockDrivenInitialSequenceNumber(): number {
  return (Date.now() * 250 + ISN_OFFSET) >>> 0;
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
  initialSequenceNumber: clockDrivenInitialSequenceNumber,
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
