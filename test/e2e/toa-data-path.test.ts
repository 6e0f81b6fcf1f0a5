import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MicroLab } from '../../harness/lab/micro-lab.ts';
import { withToaModule } from '../../harness/lab/toa-state.ts';
import { RunSession } from '../../harness/lifecycle/run-session.ts';
import type { Check } from '../../harness/runner/scenario.ts';
import { SCENARIOS } from '../../scenarios/index.ts';

/**
 * The TOA data path end to end against a real Debian kernel: every scenario
 * boots nothing of its own, they share one micro-VM and put toa.ko in the
 * state they need. Each verdict comes from the guest's own evidence.
 */
describe('TOA data path on the micro-VM (real Debian 6.1 kernel)', () => {
  let session: RunSession;
  let lab: MicroLab;

  beforeAll(async () => {
    session = await RunSession.open();
    lab = await MicroLab.start(session, { log: (line) => console.log(line) });
  });

  afterAll(async () => {
    await session?.close();
  });

  for (const scenario of SCENARIOS) {
    it(`${scenario.id}: ${scenario.title}`, async () => {
      const checks = await scenario.run(lab);
      expect(checks.length).toBeGreaterThanOrEqual(3);
      expect(failed(checks)).toEqual([]);
    });
  }

  it('keeps the guides\' counters in /proc/net/toa_stats', async () => {
    expect((await withToaModule(lab, {})).passed).toBe(true);
    const stats = (await lab.guest.run('cat /proc/net/toa_stats')).stdout;
    for (const name of [
      'syn_recv_sock_toa',
      'syn_recv_sock_no_toa',
      'getname_toa_ok',
      'getname_toa_mismatch',
      'getname_toa_bypass',
      'getname_toa_empty',
    ]) {
      expect(stats).toMatch(new RegExp(`^${name}\\s+\\d+$`, 'm'));
    }
  });
});

/** Failing checks with what was observed: vitest prints these when the test fails. */
function failed(checks: Check[]): Array<Pick<Check, 'name' | 'expected' | 'observed' | 'evidence'>> {
  return checks
    .filter((c) => !c.passed)
    .map(({ name, expected, observed, evidence }) => ({ name, expected, observed, evidence }));
}
