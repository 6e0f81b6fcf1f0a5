import { afterAll, describe, expect, it } from 'vitest';
import { formatStepTable, runFullOsConformance } from '../../harness/lab/full-os-conformance.ts';
import { RunSession } from '../../harness/lifecycle/run-session.ts';

/**
 * The full-OS procedure on the other Debian images (kernels 5.10 and 6.12),
 * one boot and one reboot each. Slow (image builds, TCG): run with
 * `npm run test:full`, not in the default test command. Debian 12 runs in
 * test/e2e/full-os-debian12.test.ts.
 */
describe.each(['debian-11', 'debian-13'])('full OS: %s', (image) => {
  const sessions: RunSession[] = [];
  afterAll(async () => {
    for (const session of sessions) await session.close();
  });

  it('builds, loads and autoloads toa.ko, keeps the VIPs across a reboot, and the access logs name the clients', async () => {
    const session = await RunSession.open();
    sessions.push(session);
    const run = await runFullOsConformance(session, image, (line) => console.log(`[${image}] ${line}`));
    console.log(formatStepTable(run.steps));
    expect(run.steps.filter((s) => s.status !== 'passed').map((s) => `${s.name}: ${s.summary}`)).toEqual([]);
    expect(run.checks.filter((c) => !c.passed)).toEqual([]);
    expect(run.checks).toHaveLength(8);
  });
});
