/**
 * TCP sequence numbers live in a 32-bit circle (RFC 9293 §3.4): comparisons are made on the
 * signed distance between two numbers, which is right as long as they are less than 2^31 apart.
 */
export function seqAdd(seq: number, delta: number): number {
  return (seq + delta) >>> 0;
}

/** Signed distance `a - b` around the circle. */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

export function seqLt(a: number, b: number): boolean {
  return seqDiff(a, b) < 0;
}

export function seqLe(a: number, b: number): boolean {
  return seqDiff(a, b) <= 0;
}

export function seqGt(a: number, b: number): boolean {
  return seqDiff(a, b) > 0;
}

export function seqGe(a: number, b: number): boolean {
  return seqDiff(a, b) >= 0;
}
