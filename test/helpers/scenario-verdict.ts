import { expect } from 'vitest';
import type { Check } from '../../harness/core/scenario.ts';

/**
 * A scenario's checks pass as a verdict: at least two real checks (a scenario
 * that checks nothing cannot pass), and none of them failed. Findings are
 * reported, not asserted. On a failure vitest prints each failing check with
 * what was observed and its evidence.
 */
export function expectScenarioPassed(checks: readonly Check[]): void {
  expect(checks.filter((c) => !c.informational).length).toBeGreaterThanOrEqual(2);
  expect(
    checks.filter((c) => !c.passed && !c.informational).map(({ name, expected, observed, evidence }) => ({ name, expected, observed, evidence })),
  ).toEqual([]);
}
