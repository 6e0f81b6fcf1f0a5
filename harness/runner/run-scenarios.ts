import { UsageError } from '../core/usage-error.ts';
import type { Scenario, ScenarioOutcome } from '../core/scenario.ts';

export interface RunScenariosOptions {
  onStart?: (scenario: { id: string }, index: number) => void;
  /**
   * Asked after a scenario threw: null if the guest still answers, else why
   * not (harness/lab/guest-health.ts). A gone guest ends the run: the
   * scenario's error says why, the rest are reported as not run.
   */
  guestGone?: () => Promise<string | null>;
}

/**
 * Runs scenarios one after another against one lab. A scenario that throws
 * becomes a failed outcome carrying the error, and the run goes on: one
 * broken scenario must not hide the verdicts of the others — unless it took
 * the guest down with it.
 */
export async function runScenarios<Lab>(
  lab: Lab,
  scenarios: ReadonlyArray<Scenario<Lab>>,
  onOutcome: (outcome: ScenarioOutcome) => void,
  options: RunScenariosOptions = {},
): Promise<ScenarioOutcome[]> {
  const outcomes: ScenarioOutcome[] = [];
  const record = (outcome: ScenarioOutcome): void => {
    outcomes.push(outcome);
    onOutcome(outcome);
  };
  for (const [index, scenario] of scenarios.entries()) {
    options.onStart?.(scenario, index);
    const started = Date.now();
    try {
      const skipped = await scenario.notApplicable?.(lab);
      if (skipped !== undefined) {
        record({ scenario: scenario.id, title: scenario.title, checks: [], durationMs: 0, skipped });
        continue;
      }
      const checks = await scenario.run(lab);
      record({ scenario: scenario.id, title: scenario.title, checks, durationMs: Date.now() - started });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const gone = await options.guestGone?.();
      record({
        scenario: scenario.id,
        title: scenario.title,
        checks: [],
        durationMs: Date.now() - started,
        error: gone ? `${message} — ${gone}` : message,
        ...(gone && { failure: 'guest-gone' as const }),
      });
      if (gone) {
        for (const rest of scenarios.slice(index + 1)) {
          record({ scenario: rest.id, title: rest.title, checks: [], durationMs: 0, error: `not run: ${gone} (since ${scenario.id})`, failure: 'not-run' });
        }
        break;
      }
    }
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

export { UsageError } from '../core/usage-error.ts';
