import { afterAll, describe, expect, it } from 'vitest';
import { formatStepTable, runFullOsConformance, type FullOsConformance } from '../../harness/lab/full-os-conformance.ts';
import { prepareFullOsDataPath } from '../../harness/lab/full-os-data-path-lab.ts';
import type { MachineDataPathLab } from '../../harness/lab/machine-data-path-lab.ts';
import { RunSession } from '../../harness/lifecycle/run-session.ts';
import { SCENARIOS } from '../../scenarios/index.ts';
import { expectScenarioPassed } from '../helpers/scenario-verdict.ts';

/**
 * The full-OS procedure on the other Debian images (kernels 5.10 and 6.12),
 * one boot and one reboot each, then every data-path scenario on the toa.ko
 * the guide installed. Slow (image builds, TCG): run with `npm run test:full`,
 * not in the default test command. Debian 12 runs in
 * test/e2e/full-os-debian12.test.ts.
 */
describe.each(['debian-11', 'debian-13'])('full OS: %s', (image) => {
  const sessions: RunSession[] = [];
  let run: FullOsConformance | undefined;
  let dataPath: MachineDataPathLab | undefined;
  afterAll(async () => {
    for (const session of sessions) await session.close();
  });

  it('builds, loads and autoloads toa.ko, keeps the VIPs across a reboot, and the access logs name the clients', async () => {
    const session = await RunSession.open();
    sessions.push(session);
    run = await runFullOsConformance(session, image, (line) => console.log(`[${image}] ${line}`));
    console.log(formatStepTable(run.steps));
    expect(run.steps.filter((s) => s.status !== 'passed').map((s) => `${s.name}: ${s.summary}`)).toEqual([]);
    expect(run.checks.filter((c) => !c.passed)).toEqual([]);
    expect(run.checks).toHaveLength(8);
    expect(run.completed).toBe(true);
  });

  it('runs toa-backend built in the guest, for the data-path scenarios', async () => {
    expect(run?.completed, 'the procedure did not complete').toBe(true);
    const prepared = await prepareFullOsDataPath(run!.lab);
    expect(prepared.step.status, prepared.step.summary).toBe('passed');
    dataPath = prepared.lab;
  });

  for (const scenario of SCENARIOS) {
    it(`${scenario.id}: ${scenario.title}`, async () => {
      expect(dataPath, 'no data-path lab').toBeDefined();
      expectScenarioPassed(await scenario.run(dataPath!));
    });
  }
});
