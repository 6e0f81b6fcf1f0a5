import { scenarioPassed } from '../core/scenario.ts';
import type { ResultRecord } from './results-store.ts';

/**
 * Last week against this week: which cell × scenario started failing, which
 * started passing, and which scenarios or steps got slower by the threshold
 * (default 20 %). Durations under `minimumMs` are ignored: on a TCG guest a
 * 40 ms step taking 50 ms is noise, not a regression.
 */
export interface ResultsDiff {
  newlyFailing: string[];
  newlyPassing: string[];
  onlyInOld: string[];
  onlyInNew: string[];
  slower: SlowerItem[];
}

export interface SlowerItem {
  what: string;
  oldMs: number;
  newMs: number;
  ratio: number;
}

export function diffResults(
  older: readonly ResultRecord[],
  newer: readonly ResultRecord[],
  options: { slowerBy?: number; minimumMs?: number } = {},
): ResultsDiff {
  const slowerBy = options.slowerBy ?? 0.2;
  const minimumMs = options.minimumMs ?? 200;
  const key = (r: ResultRecord): string => `${r.cell} × ${r.outcome.scenario}`;
  const oldByKey = new Map(older.map((r) => [key(r), r]));
  const newByKey = new Map(newer.map((r) => [key(r), r]));
  const diff: ResultsDiff = { newlyFailing: [], newlyPassing: [], onlyInOld: [], onlyInNew: [], slower: [] };

  const compare = (what: string, oldMs: number, newMs: number): void => {
    if (Math.max(oldMs, newMs) < minimumMs || oldMs <= 0) return;
    const ratio = newMs / oldMs;
    if (ratio >= 1 + slowerBy) diff.slower.push({ what, oldMs, newMs, ratio });
  };

  for (const [k, now] of newByKey) {
    const before = oldByKey.get(k);
    if (!before) {
      diff.onlyInNew.push(k);
      continue;
    }
    const was = scenarioPassed(before.outcome);
    const is = scenarioPassed(now.outcome);
    if (was && !is) diff.newlyFailing.push(k);
    if (!was && is) diff.newlyPassing.push(k);
    compare(k, before.outcome.durationMs, now.outcome.durationMs);
    for (const step of now.outcome.steps ?? []) {
      const previous = before.outcome.steps?.find((s) => s.name === step.name);
      if (previous) compare(`${k} › step "${step.name}"`, previous.durationMs, step.durationMs);
    }
  }
  for (const k of oldByKey.keys()) if (!newByKey.has(k)) diff.onlyInOld.push(k);
  diff.slower.sort((a, b) => b.ratio - a.ratio);
  return diff;
}

export function renderDiffMarkdown(diff: ResultsDiff): string {
  const list = (title: string, items: string[]): string[] =>
    items.length ? [`## ${title} (${items.length})`, '', ...items.map((i) => `- ${i}`), ''] : [];
  return [
    '# toa-lab regression report',
    '',
    ...list('Newly failing', diff.newlyFailing),
    ...list('Newly passing', diff.newlyPassing),
    ...list(
      'Slower by 20 % or more',
      diff.slower.map((s) => `${s.what}: ${(s.oldMs / 1000).toFixed(1)} s → ${(s.newMs / 1000).toFixed(1)} s (×${s.ratio.toFixed(2)})`),
    ),
    ...list('Only in the old run', diff.onlyInOld),
    ...list('Only in the new run', diff.onlyInNew),
    diff.newlyFailing.length + diff.newlyPassing.length + diff.slower.length === 0 ? 'No changes in verdicts or durations.\n' : '',
  ].join('\n');
}
