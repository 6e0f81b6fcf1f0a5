import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PATCHED_KERNEL_IMAGE } from '../../harness/runner/lab-images.ts';
import { SCENARIOS } from '../../scenarios/index.ts';
import { removeRunFolders, runToaLab, type ToaLabRun } from '../helpers/toa-lab-run.ts';

/**
 * The guide's 2.6.32 path as a user reaches it: `toa-lab run --image
 * centos-6.8-patched-kernel` — the kernel rebuilt with TOA in-tree (built here
 * when not cached, after saying what it costs), grub.conf, reboot, modprobe, then
 * every data-path scenario through the ordinary scenario runner on the in-tree toa.ko.
 */
describe(`toa-lab run --image ${PATCHED_KERNEL_IMAGE}`, () => {
  let run: ToaLabRun;

  beforeAll(() => {
    run = runToaLab(['--image', PATCHED_KERNEL_IMAGE], { timeoutMs: 4 * 3_600_000 });
    console.log(run.stdout.split('\n').filter((l) => l.startsWith('#')).join('\n'));
  }, 4 * 3_600_000);

  afterAll(() => removeRunFolders());

  it("carries out the guide's procedure to a -toa kernel with toa loaded by modprobe", () => {
    const procedure = run.outcome(PATCHED_KERNEL_IMAGE, 'guide-procedure');
    expect(procedure?.checks.filter((c) => !c.passed).map((c) => `${c.name}: ${c.observed}`)).toEqual([]);
    expect(procedure?.steps?.some((s) => s.name.startsWith('7c.') && /modprobe toa exit 0/.test(s.summary))).toBe(true);
  });

  it('runs every data-path scenario on it through the scenario runner', () => {
    for (const scenario of SCENARIOS) {
      const outcome = run.outcome(PATCHED_KERNEL_IMAGE, scenario.id);
      expect(outcome, scenario.id).toBeDefined();
      expect(outcome?.error, scenario.id).toBeUndefined();
      expect(outcome?.checks.filter((c) => !c.passed && !c.informational) ?? [], scenario.id).toEqual([]);
    }
    expect(run.code).toBe(0);
  });
});
