import { describe, expect, it } from 'vitest';
import {
  costOf,
  cpuSpent,
  medianInterval,
  parseNetDevReceived,
  parseProcessCpuTicks,
  parseProcStat,
  ratio,
  signTestCoverage,
  summarizePairs,
} from '../../../bench/module-cost-stats.ts';
import { counterGrowth, parseNetCounters } from '../../../harness/guest/net-counters.ts';

// As a 6.1 guest prints it (two vCPUs; trailing guest/guest_nice columns).
const PROC_STAT = `cpu  1200 5 3400 90000 20 0 700 0 0 0
cpu0 600 2 1700 45000 10 0 350 0 0 0
cpu1 600 3 1700 45000 10 0 350 0 0 0
intr 123456 0 9 0 0
ctxt 998877
btime 1764770000
processes 4321
procs_running 1
procs_blocked 0
softirq 55555 0 100 0 200 300 0 0 0 0 0
`;

describe('guest CPU counters (/proc/stat)', () => {
  it('reads the aggregate cpu line, not a per-CPU one', () => {
    expect(parseProcStat(PROC_STAT)).toEqual({ user: 1200, nice: 5, system: 3400, idle: 90000, iowait: 20, irq: 0, softirq: 700, steal: 0 });
  });

  it('takes a kernel without the steal column', () => {
    expect(parseProcStat('cpu  1 2 3 4 5 6 7\n').steal).toBe(0);
  });

  it('refuses text without the aggregate line, or a malformed one', () => {
    expect(() => parseProcStat('cpu0 1 2 3 4 5 6 7\n')).toThrow(/no aggregate cpu line/);
    expect(() => parseProcStat('cpu  1 2 x 4 5 6 7\n')).toThrow(/malformed/);
    expect(() => parseProcStat('cpu  1 2 3\n')).toThrow(/malformed/);
  });

  it('turns two readings into busy, softirq and idle CPU seconds (USER_HZ = 100)', () => {
    const before = parseProcStat(PROC_STAT);
    const after = { ...before, user: 1300, system: 3650, softirq: 900, irq: 1, steal: 2, idle: 90100, iowait: 30, nice: 5 };
    // busy: 100 user + 250 system + 1 irq + 200 softirq + 2 steal = 553 ticks
    expect(cpuSpent(before, after)).toEqual({ busySeconds: 5.53, softirqSeconds: 2, idleSeconds: 1.1 });
  });

  it('segments in come from /proc/net/snmp as Tcp.InSegs', () => {
    const snmp = (inSegs: number) =>
      `Ip: Forwarding DefaultTTL\nIp: 2 64\nTcp: RtoAlgorithm RtoMin ActiveOpens InSegs OutSegs\nTcp: 1 200 0 ${inSegs} 10\n`;
    expect(counterGrowth(parseNetCounters(snmp(1000)), parseNetCounters(snmp(92_000)), 'Tcp.InSegs')).toBe(91_000);
  });
});

describe('ratios and costs', () => {
  it('gives with:without, and refuses a zero baseline', () => {
    expect(ratio({ without: 800, with: 776 })).toBeCloseTo(0.97, 10);
    expect(() => ratio({ without: 0, with: 1 })).toThrow(/baseline/);
  });

  it('counts a rate that drops and a CPU figure that grows as cost', () => {
    expect(costOf(0.97, 'higher')).toBeCloseTo(0.03, 10);
    expect(costOf(1.03, 'lower')).toBeCloseTo(0.03, 10);
    expect(costOf(1.02, 'higher')).toBeCloseTo(-0.02, 10); // faster with the module: noise, a negative cost
  });
});

describe('the spread: sign-test interval of the median ratio', () => {
  it('has the textbook coverages', () => {
    expect(signTestCoverage(5, 1)).toBeCloseTo(1 - 2 / 32, 10); // 93.75 %
    expect(signTestCoverage(5, 2)).toBeCloseTo(1 - 12 / 32, 10);
    expect(signTestCoverage(9, 2)).toBeCloseTo(1 - 20 / 512, 10);
    expect(signTestCoverage(4, 1)).toBeCloseTo(0.875, 10);
    expect(signTestCoverage(1, 1)).toBe(0);
    expect(signTestCoverage(5, 4)).toBe(0); // beyond the middle
  });

  it('is [min, max] for 5 rounds, and narrows to the 2nd values for 9', () => {
    expect(medianInterval([1.01, 0.98, 1.0, 0.99, 1.02])).toEqual({ low: 0.98, high: 1.02, coverage: 1 - 2 / 32 });
    const nine = medianInterval([9, 1, 8, 2, 7, 3, 6, 4, 5]);
    expect([nine.low, nine.high]).toEqual([2, 8]);
    expect(nine.coverage).toBeCloseTo(0.961, 3);
  });

  it('falls back to [min, max] with the coverage it has when too few rounds', () => {
    expect(medianInterval([1, 3, 2])).toEqual({ low: 1, high: 3, coverage: 0.75 });
    expect(() => medianInterval([])).toThrow();
  });
});

describe('summarizePairs: the verdict against the goal', () => {
  const pairs = (ratios: number[]) => ratios.map((r) => ({ without: 100, with: 100 * r }));

  it('shows the goal when the costly end of the interval is within it', () => {
    const s = summarizePairs(pairs([0.99, 1.0, 0.985, 1.01, 0.995]), 'higher');
    expect(s.verdict).toBe('shown');
    expect(s.medianRatio).toBeCloseTo(0.995, 10);
    expect(s.cost.worst).toBeCloseTo(0.015, 10);
    expect(s.says).toMatch(/^≤ 3\.0 % shown: the cost is at most 1\.5 %/);
    expect(s.ratios).toHaveLength(5);
  });

  it('names the bound the spread allows when it hides the goal', () => {
    const s = summarizePairs(pairs([1.0, 0.9, 1.08, 0.99, 1.01]), 'higher');
    expect(s.verdict).toBe('not shown');
    expect(s.cost.worst).toBeCloseTo(0.1, 10);
    expect(s.cost.median).toBeCloseTo(0, 10);
    expect(s.says).toContain('the bound shown is ≤ 10.0 %');
    expect(s.halfSpread).toBeCloseTo(0.09, 10);
  });

  it('says missed when even the cheap end costs more than the goal', () => {
    const s = summarizePairs(pairs([1.05, 1.06, 1.04, 1.07, 1.05]), 'lower');
    expect(s.verdict).toBe('missed');
    expect(s.cost.best).toBeCloseTo(0.04, 10);
    expect(s.says).toMatch(/^over 3\.0 %: the cost is at least 4\.0 %/);
  });

  it('takes the direction into account: more CPU per unit is the costly end', () => {
    const s = summarizePairs(pairs([1.0, 1.01, 1.02, 0.99, 1.0]), 'lower');
    expect(s.verdict).toBe('shown');
    expect(s.cost.worst).toBeCloseTo(0.02, 10);
    expect(s.cost.best).toBeCloseTo(-0.01, 10);
  });

  it('uses the median of the per-round ratios, not the ratio of the medians', () => {
    const s = summarizePairs(
      [
        { without: 100, with: 99 },
        { without: 200, with: 204 },
        { without: 50, with: 50 },
      ],
      'higher',
    );
    expect(s.medianRatio).toBeCloseTo(1.0, 10);
  });
});

describe('host and interface counters', () => {
  it('reads received frames and bytes of one interface from /proc/net/dev', () => {
    const dev = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     840      12    0    0    0     0          0         0      840      12    0    0    0     0       0          0
  eth0:134742016   92311    0    0    0     0          0         0  4812300   45120    0    0    0     0       0          0
`;
    expect(parseNetDevReceived(dev, 'eth0')).toEqual({ packets: 92311, bytes: 134742016 });
    expect(() => parseNetDevReceived(dev, 'eth1')).toThrow(/no eth1/);
  });

  it('reads utime + stime of a process whose name holds spaces and parentheses', () => {
    const stat = '4242 (qemu (x) 86) S 1 4242 4242 0 -1 4194560 1000 0 0 0 1234 567 0 0 20 0 5 0 99 1 1 1';
    expect(parseProcessCpuTicks(stat)).toBe(1234 + 567);
    expect(() => parseProcessCpuTicks('1 (x) S 1')).toThrow(/malformed/);
  });

  it('a single round shows nothing', () => {
    const s = summarizePairs([{ without: 100, with: 100 }], 'higher');
    expect(s.verdict).toBe('not shown');
    expect(s.says).toMatch(/no spread/);
  });
});
