import { describe, expect, it } from 'vitest';
import { describeCells, GOAL_SCENARIOS, goalCellSeconds, type CellRun } from '../../../bench/cell-time.ts';
import { SCENARIOS } from '../../../scenarios/index.ts';

const run = (scenarios: Record<string, number>, wallSeconds: number): CellRun => ({
  wallSeconds,
  scenarioSeconds: Object.values(scenarios).reduce((a, b) => a + b, 0),
  scenarios,
  passed: true,
  failures: [],
});

describe('one kernel cell against issue 13 goal', () => {
  it("counts boot + the goal's 14 scenarios, and states each scenario added since apart", () => {
    const measured = run({ 'fullnat-toa-v4': 2, load: 30, 'tcp-fast-open': 5, 'syn-cookies': 3 }, 50);
    expect(goalCellSeconds(measured)).toBe(42);
    const lines = describeCells([{ cell: 'microvm-bookworm', runs: { this: [measured] } }]);
    expect(lines[1]).toContain("boot + the goal's 14 scenarios 42.0 s");
    expect(lines[1]).toContain('added since: tcp-fast-open 5.0, syn-cookies 3.0');
  });

  it('the goal set still names scenarios that exist', () => {
    expect(GOAL_SCENARIOS).toHaveLength(14);
    for (const id of GOAL_SCENARIOS) expect(SCENARIOS.map((s) => s.id)).toContain(id);
  });
});
