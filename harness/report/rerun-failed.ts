import { pairKey } from '../core/plan.ts';
import { scenarioPassed } from '../core/scenario.ts';
import { resultsFile } from './merge-results.ts';
import { ResultsStore } from './results-store.ts';
import { UsageError } from '../core/usage-error.ts';

/**
 * `run --rerun-failed DIR`: the `cell × scenario` pairs of an earlier run that
 * did not pass — a failed check, an error, a scenario not run — plus those its
 * plan meant to run and never reported (an interrupted run). Skipped ones passed.
 */
export function failedPairs(dir: string): Set<string> {
  let path: string;
  try {
    path = resultsFile(dir);
  } catch (error) {
    throw new UsageError(`--rerun-failed: ${(error as Error).message}`);
  }
  const run = ResultsStore.readRun(path);
  const failed = new Set(run.results.filter((r) => !scenarioPassed(r.outcome)).map((r) => pairKey(r.cell, r.outcome.scenario)));
  const reported = new Set(run.results.map((r) => pairKey(r.cell, r.outcome.scenario)));
  for (const cell of run.plan?.cells ?? []) {
    for (const scenario of cell.scenarios) if (!reported.has(pairKey(cell.id, scenario))) failed.add(pairKey(cell.id, scenario));
  }
  return failed;
}
