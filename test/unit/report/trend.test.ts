import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTrend, renderTrendMarkdown } from '../../../harness/report/trend.ts';
import { renderTrendHtml } from '../../../harness/report/trend-html.ts';

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

  it('renders the same rows as one self-contained HTML page: a status strip and a duration line per row', () => {
    const trend = readTrend(['2026-11-16', '2026-11-23', '2026-11-30'].map((id) => join(RUNS, id)));
    const html = renderTrendHtml(trend);
    expect(html).not.toMatch(/<script|src=|href="http/);
    expect(html).toContain('<strong>2 failing now.</strong>');
    const loadRow = html.split('<tr').find((r) => r.includes('microvm-bookworm × load'))!;
    expect(loadRow).toContain('class="failing"');
    // One square per run, coloured by status: passed, failed, failed.
    expect([...loadRow.matchAll(/<rect [^>]*fill="(#[0-9a-f]{6})"/g)].map((m) => m[1])).toEqual(['#3a9d4a', '#c8372d', '#c8372d']);
    // Durations 30, 45, 47 s: three points, the newest highest (smallest y), and the last value said.
    const ys = [...loadRow.matchAll(/<circle cx="[\d.]+" cy="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(ys).toHaveLength(3);
    expect(ys[2]).toBeLessThan(ys[0]!);
    expect(loadRow).toContain('47.0 s');
    const rebootRow = html.split('<tr').find((r) => r.includes('debian-12 × reboot-persistence'))!;
    expect([...rebootRow.matchAll(/<circle /g)]).toHaveLength(2); // not run in the third: no point
  });
});

