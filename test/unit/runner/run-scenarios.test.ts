import { describe, expect, it } from 'vitest';
import { runScenarios } from '../../../harness/runner/run-scenarios.ts';
import { check, type Scenario, type ScenarioOutcome } from '../../../harness/core/scenario.ts';

// The runner's bookkeeping only; test/e2e/guest-gone.test.ts crashes a real guest through it.
function scenario(id: string, run: () => Promise<void> = async () => {}): Scenario<null> {
  return {
    id,
    title: id,
    setup: '',
    sends: '',
    passesWhen: '',
    mechanism: 'toa',
    async run() {
      await run();
      return [check(`${id} ran`, true, 'ran', 'ran')];
    },
  };
}

const throws = (message: string) => async (): Promise<void> => {
  throw new Error(message);
};

async function outcomesOf(scenarios: Array<Scenario<null>>, guestGone?: () => Promise<string | null>): Promise<ScenarioOutcome[]> {
  const streamed: ScenarioOutcome[] = [];
  const returned = await runScenarios(null, scenarios, (o) => streamed.push(o), guestGone ? { guestGone } : {});
  expect(returned).toEqual(streamed);
  return returned;
}

describe('runScenarios', () => {
  it('goes on after a scenario throws while the guest still answers', async () => {
    const outcomes = await outcomesOf([scenario('a', throws('boom')), scenario('b')], async () => null);
    expect(outcomes.map((o) => [o.scenario, o.error ?? 'ok'])).toEqual([
      ['a', 'boom'],
      ['b', 'ok'],
    ]);
  });

  it('stops when the guest is gone: the error says why, the rest are reported as not run', async () => {
    let asked = 0;
    const outcomes = await outcomesOf([scenario('a'), scenario('b', throws('ssh: Not connected to server')), scenario('c'), scenario('d')], async () => {
      asked++;
      return 'the guest no longer answers (no answer within 15 s); its console shows watchdog: BUG: soft lockup';
    });
    expect(asked).toBe(1);
    expect(outcomes.map((o) => o.scenario)).toEqual(['a', 'b', 'c', 'd']);
    expect(outcomes[0]!.error).toBeUndefined();
    expect(outcomes[1]!.error).toBe('ssh: Not connected to server — the guest no longer answers (no answer within 15 s); its console shows watchdog: BUG: soft lockup');
    for (const rest of outcomes.slice(2)) {
      expect(rest.checks).toEqual([]);
      expect(rest.error).toBe('not run: the guest no longer answers (no answer within 15 s); its console shows watchdog: BUG: soft lockup (since b)');
    }
  });

  it('does not ask about the guest when nothing threw', async () => {
    let asked = 0;
    await outcomesOf([scenario('a'), scenario('b')], async () => {
      asked++;
      return 'gone';
    });
    expect(asked).toBe(0);
  });
});
