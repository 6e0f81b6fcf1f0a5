import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureMicroVmImage } from '../../harness/images/microvm/build-microvm-image.ts';
import { removeRunFolders, runToaLab, type ToaLabRun } from '../helpers/toa-lab-run.ts';

// The reports these runs write are read by the tests, then removed.
afterAll(removeRunFolders);

/**
 * A vendor's module through the CLI, the way a vendor runs it: each verdict
 * category the report promises, produced by a real build or a real insmod.
 */
const ROOT = join(import.meta.dirname, '..', '..');

function run(...args: string[]): ToaLabRun {
  return runToaLab(['--image', 'microvm-bookworm', ...args], { timeoutMs: 600_000 });
}

describe('third-party TOA modules (--toa-source, --toa-ko)', () => {
  let bullseyeKo: string;
  beforeAll(async () => {
    bullseyeKo = join((await ensureMicroVmImage({ suite: 'bullseye' })).dir, 'build', 'toa', 'toa.ko');
  });

  it('a module written for old kernels: "did not build", with the first errors and the known causes explained', () => {
    const { code, records, report } = run('--scenario', 'fullnat-toa-v4', '--toa-source', join(ROOT, 'test/fixtures/toa-old-api'));
    expect(code).toBe(1);
    const module = records.find((r) => r.outcome.scenario === 'toa-module')!.outcome;
    expect(module.error).toMatch(/did not build: kallsyms_lookup_name is no longer exported .*Linux ≥ 5\.7/);
    expect(module.error).toMatch(/proc_create takes a struct proc_ops since Linux 5\.6/);
    expect(module.steps?.find((s) => s.name.startsWith('make'))?.evidence).toMatch(/error: implicit declaration of function .kallsyms_lookup_name/);
    expect(report).toContain('module verdict: did not build');
  });

  it('a prebuilt toa.ko for another kernel: "did not load", vermagic explained', () => {
    const { code, records, report } = run('--scenario', 'fullnat-toa-v4', '--toa-ko', bullseyeKo);
    expect(code).toBe(1);
    const load = records[0]!.outcome.checks.find((c) => c.name.startsWith('toa.ko loads'))!;
    expect(load.passed).toBe(false);
    expect(load.observed).toMatch(/built for another kernel/);
    expect(report).toContain('module verdict: did not load');
  });

  it('a Makefile that exits 0 and builds nothing: "produced no module", with the cause, after its own make and the kbuild fallback', () => {
    const { code, records, report } = run('--scenario', 'fullnat-toa-v4', '--toa-source', join(ROOT, 'test/fixtures/toa-config-gated'));
    expect(code).toBe(1);
    const module = records.find((r) => r.outcome.scenario === 'toa-module')!.outcome;
    expect(module.error).toMatch(/^produced no module: make exited 0 and left no \.ko; the Makefile lists its objects under obj-\$\(CONFIG_TOA\)/);
    expect(module.steps?.map((s) => s.status)).toEqual(['passed', 'failed', 'failed']);
    expect(module.steps?.[1]?.name).toMatch(/^make \(its own Makefile, for \S+: uname -r and \/lib\/modules\/\S+\/build are the target's\)$/);
    expect(module.steps?.[2]?.name).toContain('kbuild called directly: the fallback');
    expect(report).toContain('module verdict: produced no module');
  });

  it('a module that works, from source: built by its own Makefile, passes; our-parameter scenarios are skipped, not failed', () => {
    const { code, records, report } = run('--scenario', 'fullnat-toa-v4,toa-kind-filter', '--toa-source', join(ROOT, 'native/toa'));
    expect(code).toBe(0);
    expect(records.map((r) => [r.outcome.scenario, r.outcome.skipped !== undefined])).toEqual([
      ['toa-module', false],
      ['fullnat-toa-v4', false],
      ['toa-kind-filter', true],
    ]);
    expect(report).toContain('module verdict: passed');
  });
});
