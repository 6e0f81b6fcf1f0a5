/**
 * The arithmetic of bench/module-cost.ts, kept pure so it can be unit-tested:
 * the guest's CPU counters, and how paired rounds (without toa.ko, with it) turn
 * into a ratio, a spread and a verdict against a goal.
 *
 * How a verdict is reached:
 * - each round k gives one ratio with:without, measured minutes apart on the
 *   same boot, so slow drift of the host (other guests starting, page cache)
 *   cancels within the pair;
 * - the rounds' median is the figure; the interval is a distribution-free
 *   confidence interval for the median ratio (the sign test's order statistics:
 *   [x(k), x(n+1-k)] covers the median with 1 − 2·P(Bin(n, ½) ≤ k−1)), which
 *   for 5 rounds is [min, max] at 93.75 %;
 * - the goal is "shown" when the costly end of that interval is within it,
 *   "missed" when even the cheap end is beyond it, and otherwise "not shown",
 *   with the bound the interval does show.
 */
import { median } from './median.ts';

/** The aggregate `cpu` line of /proc/stat, in USER_HZ ticks (1/100 s on Linux). */
export interface GuestCpuTicks {
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
}

/** USER_HZ: what /proc/stat counts in, on every Linux architecture the lab boots. */
export const TICKS_PER_SECOND = 100;

export function parseProcStat(text: string): GuestCpuTicks {
  const line = text.split('\n').find((l) => /^cpu\s/.test(l));
  if (!line) throw new Error(`no aggregate cpu line in /proc/stat: ${JSON.stringify(text.slice(0, 120))}`);
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  if (values.length < 7 || values.some((v) => !Number.isFinite(v))) throw new Error(`malformed /proc/stat cpu line: ${line}`);
  const [user, nice, system, idle, iowait, irq, softirq, steal = 0] = values as [number, number, number, number, number, number, number, number?];
  return { user, nice, system, idle, iowait, irq, softirq, steal };
}

/** What the guest's CPUs did between two readings, in seconds of CPU (all CPUs together). */
export interface GuestCpuSpent {
  /** Everything but idle and iowait: user, nice, system, irq, softirq, steal. */
  busySeconds: number;
  /** NET_RX and the rest of the softirqs: where the receive path (and toa.ko's hook) runs. */
  softirqSeconds: number;
  idleSeconds: number;
}

export function cpuSpent(before: GuestCpuTicks, after: GuestCpuTicks): GuestCpuSpent {
  const d = (k: keyof GuestCpuTicks): number => after[k] - before[k];
  const busy = d('user') + d('nice') + d('system') + d('irq') + d('softirq') + d('steal');
  return {
    busySeconds: busy / TICKS_PER_SECOND,
    softirqSeconds: d('softirq') / TICKS_PER_SECOND,
    idleSeconds: (d('idle') + d('iowait')) / TICKS_PER_SECOND,
  };
}

/** Frames and bytes an interface received, from /proc/net/dev (before GRO merges them). */
export function parseNetDevReceived(text: string, iface: string): { packets: number; bytes: number } {
  const line = text.split('\n').find((l) => l.trim().startsWith(`${iface}:`));
  if (!line) throw new Error(`no ${iface} in /proc/net/dev`);
  const [bytes, packets] = line.slice(line.indexOf(':') + 1).trim().split(/\s+/).map(Number);
  if (!Number.isFinite(bytes) || !Number.isFinite(packets)) throw new Error(`malformed /proc/net/dev line: ${line}`);
  return { packets: packets!, bytes: bytes! };
}

/**
 * utime + stime of a process, from /proc/PID/stat, in clock ticks (1/100 s): the
 * fields after the command name, which may itself hold spaces and parentheses.
 */
export function parseProcessCpuTicks(stat: string): number {
  const rest = stat.slice(stat.lastIndexOf(')') + 2).trim().split(/\s+/);
  // rest[0] is field 3 (state); utime and stime are fields 14 and 15.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`malformed /proc/PID/stat: ${stat.slice(0, 120)}`);
  return utime + stime;
}

/** Whether more of a figure is better (a rate) or worse (CPU per unit of work). */
export type Better = 'higher' | 'lower';

/** One round's two figures, measured back to back on the same boot. */
export interface RoundPair {
  without: number;
  with: number;
}

/** with:without of one round. */
export function ratio(pair: RoundPair): number {
  if (!(pair.without > 0)) throw new Error(`no baseline to compare with: ${pair.without}`);
  return pair.with / pair.without;
}

/**
 * What the module costs, as a fraction, at a ratio with:without: a rate that
 * drops to ×0.97 costs 3 %, CPU per unit that grows to ×1.03 costs 3 %. A
 * negative cost is a ratio on the good side of 1 (noise, at these sizes).
 */
export function costOf(ratioWithToWithout: number, better: Better): number {
  return better === 'higher' ? 1 - ratioWithToWithout : ratioWithToWithout - 1;
}

/** Two-sided coverage of the sign test's interval [x(k), x(n+1−k)] for the median of n values. */
export function signTestCoverage(n: number, k: number): number {
  if (k < 1 || 2 * k > n + 1) return 0;
  let tail = 0;
  for (let i = 0; i <= k - 1; i++) tail += binomial(n, i);
  return Math.max(0, 1 - (2 * tail) / 2 ** n);
}

function binomial(n: number, k: number): number {
  let c = 1;
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i;
  return c;
}

/**
 * The narrowest sign-test interval whose coverage is at least `wanted`, as order
 * statistics (1-based k: [x(k), x(n+1−k)]); when no k reaches it (n ≤ 4 for 90 %),
 * the widest one, [min, max], with the coverage it has.
 */
export function medianInterval(values: readonly number[], wanted = 0.9): { low: number; high: number; coverage: number } {
  if (values.length === 0) throw new Error('interval of no rounds');
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  let k = 1;
  while (2 * (k + 1) <= n + 1 && signTestCoverage(n, k + 1) >= wanted) k++;
  return { low: sorted[k - 1]!, high: sorted[n - k]!, coverage: signTestCoverage(n, k) };
}

export type Verdict = 'shown' | 'not shown' | 'missed';

export interface PairedSummary {
  /** with:without per round, in round order. */
  ratios: number[];
  /** The median of the per-round ratios (not the ratio of the medians). */
  medianRatio: number;
  /** The spread: the sign-test interval of the median ratio, and its coverage. */
  interval: { low: number; high: number; coverage: number };
  /** Half the interval's width, relative to the median ratio: "±x %". */
  halfSpread: number;
  /** Cost at the median, and at the interval's cheap and costly ends (fractions). */
  cost: { median: number; best: number; worst: number };
  goal: number;
  verdict: Verdict;
  /** One sentence: the verdict, and the bound the rounds show when they do not show the goal. */
  says: string;
}

export function summarizePairs(pairs: readonly RoundPair[], better: Better, goal = 0.03): PairedSummary {
  const ratios = pairs.map(ratio);
  const medianRatio = median(ratios);
  const interval = medianInterval(ratios);
  const costs = [costOf(interval.low, better), costOf(interval.high, better)];
  const cost = { median: costOf(medianRatio, better), best: Math.min(...costs), worst: Math.max(...costs) };
  // One round has no spread to judge by: nothing is shown either way.
  const verdict: Verdict = interval.coverage === 0 ? 'not shown' : cost.worst <= goal ? 'shown' : cost.best > goal ? 'missed' : 'not shown';
  const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;
  const within = `${(interval.coverage * 100).toFixed(interval.coverage === 1 ? 0 : 1)} % interval of ${ratios.length} rounds`;
  const says =
    interval.coverage === 0
      ? `not shown: ${ratios.length} round${ratios.length === 1 ? '' : 's'}, no spread to judge by (median cost ${pct(cost.median)})`
      : verdict === 'shown'
      ? `≤ ${pct(goal)} shown: the cost is at most ${pct(cost.worst)} at the costly end of the ${within}`
      : verdict === 'missed'
        ? `over ${pct(goal)}: the cost is at least ${pct(cost.best)} even at the cheap end of the ${within}`
        : `not shown: median cost ${pct(cost.median)}, but the ${within} reaches ${pct(cost.worst)}; the bound shown is ≤ ${pct(cost.worst)}`;
  return {
    ratios,
    medianRatio,
    interval,
    halfSpread: (interval.high - interval.low) / 2 / medianRatio,
    cost,
    goal,
    verdict,
    says,
  };
}
