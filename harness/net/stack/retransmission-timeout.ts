/**
 * The retransmission timeout per RFC 6298: smoothed RTT and variance from samples (Karn's rule —
 * never sample a retransmitted segment — is the caller's job), clamped to [min, max], doubled
 * on each expiry and restored when new data is acknowledged.
 */
export class RetransmissionTimeout {
  private smoothedRtt: number | undefined;
  private rttVariance = 0;
  private baseMs: number;
  private currentMs: number;

  constructor(
    initialMs: number,
    private readonly minMs: number,
    private readonly maxMs: number,
  ) {
    this.baseMs = this.clamp(initialMs);
    this.currentMs = this.baseMs;
  }

  /** The timeout to arm now, backoff included. */
  get ms(): number {
    return this.currentMs;
  }

  get srttMs(): number | undefined {
    return this.smoothedRtt;
  }

  addSample(rttMs: number): void {
    if (this.smoothedRtt === undefined) {
      this.smoothedRtt = rttMs;
      this.rttVariance = rttMs / 2;
    } else {
      this.rttVariance = 0.75 * this.rttVariance + 0.25 * Math.abs(this.smoothedRtt - rttMs);
      this.smoothedRtt = 0.875 * this.smoothedRtt + 0.125 * rttMs;
    }
    // Clock granularity G is 1 ms here (Date-based timing).
    this.baseMs = this.clamp(this.smoothedRtt + Math.max(1, 4 * this.rttVariance));
    this.currentMs = this.baseMs;
  }

  backOff(): void {
    this.currentMs = Math.min(this.currentMs * 2, this.maxMs);
  }

  resetBackoff(): void {
    this.currentMs = this.baseMs;
  }

  private clamp(ms: number): number {
    return Math.min(this.maxMs, Math.max(this.minMs, ms));
  }
}
