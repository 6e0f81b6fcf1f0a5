import type { RunPlan } from '../core/plan.ts';
import { scenarioPassed, type ScenarioOutcome } from '../core/scenario.ts';
import type { ResultRecord } from './results-store.ts';

/**
 * The four answers a report counts apart, decided on typed fields only:
 * - passed: every deciding check passed;
 * - failed: a check failed or the scenario broke while running;
 * - skipped: does not apply here (neither pass nor failure);
 * - not run: never started (image, module or guest missing), or planned and never reported.
 */
export type OutcomeStatus = 'passed' | 'failed' | 'skipped' | 'not-run';

export function outcomeStatus(outcome: ScenarioOutcome): OutcomeStatus {
  if (outcome.failure === 'not-run') return 'not-run';
  if (outcome.skipped !== undefined && !outcome.error) return 'skipped';
  return scenarioPassed(outcome) ? 'passed' : 'failed';
}

export type StatusCounts = Record<OutcomeStatus, number>;

/** Counts over the records, plus the plan's pairs that have no record (not run). */
export function countStatuses(records: readonly ResultRecord[], plan?: RunPlan): StatusCounts {
  const counts: StatusCounts = { passed: 0, failed: 0, skipped: 0, 'not-run': 0 };
  for (const r of records) counts[outcomeStatus(r.outcome)]++;
  counts['not-run'] += unreported(records, plan).length;
  return counts;
}

/** The plan's cell × scenario pairs without a record. */
export function unreported(records: readonly ResultRecord[], plan?: RunPlan): Array<{ cell: string; scenario: string }> {
  const seen = new Set(records.map((r) => `${r.cell}\0${r.outcome.scenario}`));
  return (plan?.cells ?? []).flatMap((c) => c.scenarios.filter((s) => !seen.has(`${c.id}\0${s}`)).map((scenario) => ({ cell: c.id, scenario })));
}

export function describeCounts(counts: StatusCounts): string {
  return `${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped, ${counts['not-run']} not run`;
}
