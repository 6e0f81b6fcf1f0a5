import { basename } from 'node:path';
import { pairKey } from '../core/plan.ts';
import { resultsFile } from './merge-results.ts';
import { outcomeStatus, type OutcomeStatus } from './outcome-status.ts';
import { ResultsStore } from './results-store.ts';

/**
 * "Since when does this fail?" over N runs (oldest to newest, by when each ran):
 * per cell × scenario, its status in every run, the last run it passed, the run
 * its current failing streak began, and its durations run by run.
 * Different toa-lab versions are fine here: history spans upgrades.
 */
export interface TrendRun {
  id: string;
  startedAt: string;
}

export interface TrendRow {
  cell: string;
  scenario: string;
  /** One per run, oldest first; `absent` when that run did not have it. */
  statuses: Array<OutcomeStatus | 'absent'>;
  durationsMs: Array<number | undefined>;
  lastPassed?: TrendRun;
  /** Set when the newest run that has it did not pass: the first run of that failing streak. */
  failingSince?: TrendRun;
}

export interface Trend {
  runs: TrendRun[];
  rows: TrendRow[];
}

export function readTrend(dirs: readonly string[]): Trend {
  const loaded = dirs.map((dir) => {
    const run = ResultsStore.readRun(resultsFile(dir));
    const startedAt = run.plan?.createdAt ?? run.results.map((r) => r.finishedAt).sort()[0] ?? '';
    return { run: { id: basename(dir.replace(/\/results\.jsonl$/, '').replace(/\/$/, '')), startedAt }, results: run.results };
  });
  loaded.sort((a, b) => a.run.startedAt.localeCompare(b.run.startedAt));
  const runs = loaded.map((l) => l.run);
  const keys = new Map<string, { cell: string; scenario: string }>();
  for (const l of loaded) for (const r of l.results) keys.set(pairKey(r.cell, r.outcome.scenario), { cell: r.cell, scenario: r.outcome.scenario });

  const rows = [...keys.values()].map(({ cell, scenario }): TrendRow => {
    const found = loaded.map((l) => l.results.find((r) => r.cell === cell && r.outcome.scenario === scenario)?.outcome);
    const statuses = found.map((o) => (o ? outcomeStatus(o) : 'absent'));
    // A duration only where the scenario ran: a skip or a not-run has none worth plotting.
    const durationsMs = found.map((o, i) => (statuses[i] === 'passed' || statuses[i] === 'failed' ? o?.durationMs : undefined));
    const row: TrendRow = { cell, scenario, statuses, durationsMs };
    const lastPass = statuses.lastIndexOf('passed');
    if (lastPass >= 0) row.lastPassed = runs[lastPass]!;
    const present = statuses.map((s, i) => [s, i] as const).filter(([s]) => s !== 'absent' && s !== 'skipped');
    const failing = (s: OutcomeStatus | 'absent'): boolean => s === 'failed' || s === 'not-run';
    if (present.length && failing(present.at(-1)![0])) {
      let start = present.length - 1;
      while (start > 0 && failing(present[start - 1]![0])) start--;
      row.failingSince = runs[present[start]![1]]!;
    }
    return row;
  });
  // What fails now first, longest-failing first; then the rest in order.
  rows.sort((a, b) => Number(!a.failingSince) - Number(!b.failingSince) || (a.failingSince?.startedAt ?? '').localeCompare(b.failingSince?.startedAt ?? ''));
  return { runs, rows };
}

const MARK: Record<OutcomeStatus | 'absent', string> = { passed: '✅', failed: '❌', skipped: '➖', 'not-run': '⏸️', absent: '·' };

export function renderTrendMarkdown(trend: Trend): string {
  const failing = trend.rows.filter((r) => r.failingSince);
  const lines = [
    '# toa-lab trend',
    '',
    `${trend.runs.length} runs, oldest first: ${trend.runs.map((r) => `${r.id} (${r.startedAt.slice(0, 16).replace('T', ' ')})`).join(', ')}`,
    '',
    failing.length ? `**${failing.length} failing now.**` : '**Nothing fails in the newest run.**',
    '',
    '| cell × scenario | runs | last passed | failing since | durations (s) |',
    '|---|---|---|---|---|',
  ];
  for (const row of trend.rows) {
    lines.push(
      `| ${row.cell} × ${row.scenario} | ${row.statuses.map((s) => MARK[s]).join(' ')} | ${row.lastPassed?.id ?? 'never'} | ${
        row.failingSince?.id ?? '—'
      } | ${row.durationsMs.map((ms) => (ms === undefined ? '·' : (ms / 1000).toFixed(1))).join(' → ')} |`,
    );
  }
  lines.push('', 'Legend: ✅ passed, ❌ failed, ➖ skipped, ⏸️ not run, · not in that run.', '');
  return lines.join('\n');
}
