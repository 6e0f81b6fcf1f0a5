import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guestGone } from '../../harness/lab/guest-health.ts';
import { MicroLab } from '../../harness/lab/micro-lab.ts';
import { RunSession } from '../../harness/lifecycle/run-session.ts';
import { moduleVerdict } from '../../harness/runner/module-verdict.ts';
import { runScenarios } from '../../harness/runner/run-scenarios.ts';
import type { Scenario, ScenarioOutcome } from '../../harness/core/scenario.ts';
import type { DataPathLab } from '../../harness/lab/data-path-lab.ts';
import { fullnatToaV4 } from '../../scenarios/fullnat-toa-v4.ts';
import { qemuProcessesUnder } from '../helpers/qemu-processes.ts';

/**
 * A scenario that takes the guest down (here: a real kernel panic, by sysrq)
 * must not leave the run with a transport error and a string of scenarios
 * failing the same way: the runner asks whether the guest still answers, and
 * the report says what its serial console showed, then lists the rest as not
 * run. This is what a module that crashes or hangs the guest looks like.
 */
const crashTheGuest: Scenario<DataPathLab> = {
  id: 'crash-the-guest',
  title: 'echo c > /proc/sysrq-trigger',
  setup: '',
  sends: '',
  passesWhen: 'never: it panics the kernel',
  mechanism: 'toa',
  async run(lab) {
    await lab.guest.run('echo c > /proc/sysrq-trigger', { timeoutMs: 10_000 });
    await lab.guest.check('true');
    return [];
  },
};

describe('a scenario that crashes the guest (micro-VM, real kernel panic)', () => {
  let session: RunSession;
  let outcomes: ScenarioOutcome[];

  beforeAll(async () => {
    session = await RunSession.open();
    const lab = await MicroLab.start(session, { log: (line) => console.log(line) });
    const since = await lab.markKernelLog();
    outcomes = await runScenarios(lab, [crashTheGuest, fullnatToaV4], () => {}, { guestGone: () => guestGone(lab, since) });
    console.log(outcomes.map((o) => `${o.scenario}: ${o.error}`).join('\n'));
  });

  afterAll(async () => {
    await session?.close();
  });

  it("reports what the guest's console showed, not only the transport error", () => {
    expect(outcomes[0]!.scenario).toBe('crash-the-guest');
    expect(outcomes[0]!.error).toMatch(/ — the guest no longer answers \(.+\); its console shows Kernel panic - not syncing: sysrq triggered crash/);
  });

  it('reports the scenarios after it as not run, with the reason', () => {
    expect(outcomes[1]!.scenario).toBe('fullnat-toa-v4');
    expect(outcomes[1]!.checks).toEqual([]);
    expect(outcomes[1]!.error).toMatch(/^not run: the guest no longer answers .* \(since crash-the-guest\)$/);
    expect(moduleVerdict(outcomes)).toBe('crashed the guest');
  });

  it('leaves no QEMU behind once the session closes', async () => {
    await session.close();
    expect(qemuProcessesUnder(session.dir)).toEqual([]);
  });
});
