import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTrend, renderTrendMarkdown } from '../../../harness/report/trend.ts';

// Three stored runs a week apart (test/fixtures/trend): load breaks in the second and stays
// broken, Debian 12's reboot-persistence is not run in the third, udp heals in the second.
const RUNS = join(import.meta.dirname, '..', '..', 'fixtures', 'trend');

describe('report trend', () => {
  it('orders runs by when they ran and says per cell × scenario when it last passed and since when it fails', () => {
    // Given out of order on purpose.
    const trend = readTrend(['2026-11-30', '2026-11-16', '2026-11-23'].map((id) => join(RUNS, id)));
    expect(trend.runs.map((r) => r.id)).toEqual(['2026-11-16', '2026-11-23', '2026-11-30']);
    const row = (cell: string, scenario: string) => trend.rows.find((r) => r.cell === cell && r.scenario === scenario)!;

    const load = row('microvm-bookworm', 'load');
    expect(load.statuses).toEqual(['passed', 'failed', 'failed']);
    expect(load.lastPassed?.id).toBe('2026-11-16');
    expect(load.failingSince?.id).toBe('2026-11-23');
    expect(load.durationsMs).toEqual([30_000, 45_000, 47_000]);

    const reboot = row('debian-12', 'reboot-persistence');
    expect(reboot.statuses).toEqual(['passed', 'passed', 'not-run']);
    expect(reboot.failingSince?.id).toBe('2026-11-30');
    expect(reboot.durationsMs).toEqual([90_000, 95_000, undefined]);

    const udp = row('microvm-trixie', 'udp');
    expect(udp.failingSince).toBeUndefined(); // failed once, passes now
    expect(udp.lastPassed?.id).toBe('2026-11-30');

    // What fails now comes first, the longest-failing first.
    expect(trend.rows.slice(0, 2).map((r) => r.scenario)).toEqual(['load', 'reboot-persistence']);
    const md = renderTrendMarkdown(trend);
    expect(md).toContain('**2 failing now.**');
    expect(md).toContain('| microvm-bookworm × load | ✅ ❌ ❌ | 2026-11-16 | 2026-11-23 | 30.0 → 45.0 → 47.0 |');
    expect(md).toContain('| debian-12 × reboot-persistence | ✅ ✅ ⏸️ | 2026-11-23 | 2026-11-30 | 90.0 → 95.0 → · |');
  });
});
