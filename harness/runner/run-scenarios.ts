import type { Scenario, ScenarioOutcome } from './scenario.ts';

/**
 * Runs scenarios one after another against one lab. A scenario that throws
 * becomes a failed outcome carrying the error, and the run goes on: one
 * broken scenario must not hide the verdicts of the others.
 */
export async function runScenarios<Lab>(
  lab: Lab,
  scenarios: ReadonlyArray<Scenario<Lab>>,
  onOutcome: (outcome: ScenarioOutcome) => void,
  onStart: (scenario: Scenario<Lab>, index: number) => void = () => {},
): Promise<ScenarioOutcome[]> {
  const outcomes: ScenarioOutcome[] = [];
  for (const [index, scenario] of scenarios.entries()) {
    onStart(scenario, index);
    const started = Date.now();
    const skipped = scenario.notApplicable?.(lab);
    if (skipped !== undefined) {
      const outcome: ScenarioOutcome = { scenario: scenario.id, title: scenario.title, checks: [], durationMs: 0, skipped };
      outcomes.push(outcome);
      onOutcome(outcome);
      continue;
    }
    let outcome: ScenarioOutcome;
    try {
      const checks = await scenario.run(lab);
      outcome = { scenario: scenario.id, title: scenario.title, checks, durationMs: Date.now() - started };
    } catch (error) {
      outcome = {
        scenario: scenario.id,
        title: scenario.title,
        checks: [],
        durationMs: Date.now() - started,
        error: error instanceof Error ? error.message : String(error),
      };
    }
    outcomes.push(outcome);
    onOutcome(outcome);
  }
  return outcomes;
}

/** Picks scenarios by id, failing loudly on a name that does not exist. */
export function selectScenarios<Lab>(all: ReadonlyArray<Scenario<Lab>>, ids: readonly string[]): Array<Scenario<Lab>> {
  if (ids.length === 0) return [...all];
  const unknown = ids.filter((id) => !all.some((s) => s.id === id));
  if (unknown.length) {
    throw new UsageError(`unknown scenario ${unknown.join(', ')}; known: ${all.map((s) => s.id).join(', ')}`);
  }
  return all.filter((s) => ids.includes(s.id));
}

/** A mistake in how the harness was called: exit code 2, no stack trace. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
