import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../harness/repo-root.ts';
import { removeRunFolders, runToaLab } from '../helpers/toa-lab-run.ts';

// The reports these runs write are read by the tests, then removed.
afterAll(removeRunFolders);

/**
 * A vendor's module on a whole OS, through the CLI: `--toa-source` is pushed to
 * the guest and built by the guide's own steps (make, insmod, autoload), then
 * the data-path scenarios run on it. Here the "vendor" source is a copy of
 * native/toa, so it must pass; scenarios that rely on toa-lab's own module
 * parameters are skipped for a vendor module, not failed.
 */
describe('full OS: a vendor module from --toa-source', () => {
  it("is built and installed by the guide's steps in the guest and passes the data-path scenarios", () => {
    const source = join(repoRoot(), 'native/toa');
    const scenarios = 'guide-procedure,reboot-persistence,fullnat-toa-v4,fullnat-no-toa,toa-kind-filter';
    const run = runToaLab(['--image', 'debian-12', '--scenario', scenarios, '--toa-source', source], { timeoutMs: 1_200_000 });
    expect(run.code, run.stdout.slice(-3000)).toBe(0);
    expect(run.records.map((r) => [r.outcome.scenario, r.outcome.skipped !== undefined])).toEqual([
      ['guide-procedure', false],
      ['reboot-persistence', false],
      ['fullnat-toa-v4', false],
      ['fullnat-no-toa', false],
      ['toa-kind-filter', true],
    ]);
    const steps = run.records[0]!.outcome.steps!.map((s) => s.name);
    expect(steps[0]).toMatch(/^fetch the TOA source/);
    expect(steps).toContain(`push ${source} to /root/toa`);
    expect(run.report).toContain('debian-12: module verdict: passed');
  });
});
