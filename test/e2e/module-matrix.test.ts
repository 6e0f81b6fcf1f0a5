import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ResultsStore } from '../../harness/report/results-store.ts';
import { removeRunFolders, runToaLab } from '../helpers/toa-lab-run.ts';

afterAll(removeRunFolders);

const ROOT = join(import.meta.dirname, '..', '..');

/**
 * Two modules × one micro-VM kernel × one scenario through the CLI, as a vendor runs a
 * compatibility matrix: toa-lab's own module (passes) and test/fixtures/toa-old-api (a module
 * of ours written against 4.x-era interfaces: does not build). Both fixtures are the lab's
 * own; no public module is fetched. Cheap: the bookworm micro-VM image and its build chroot
 * are cached by the other e2e files, and the broken module never boots a VM.
 */
describe('modules × kernels in one run', () => {
  it('two named modules: cells <image>+<module>, one verdict each with its words, the compatibility table', () => {
    const run = runToaLab(
      ['--image', 'microvm-bookworm', '--scenario', 'fullnat-toa-v4', '--toa-source', 'ours', '--toa-source', `old-api=${join(ROOT, 'test/fixtures/toa-old-api')}`],
      { timeoutMs: 600_000 },
    );
    expect(run.code, run.stderr).toBe(1);
    const { plan, cells } = ResultsStore.readRun(join(run.out, 'results.jsonl'));
    expect(plan?.cells.map((c) => [c.id, c.module])).toEqual([
      ['microvm-bookworm+toa-lab', 'toa-lab'],
      ['microvm-bookworm+old-api', 'old-api'],
    ]);
    expect(run.outcome('microvm-bookworm+toa-lab', 'fullnat-toa-v4')?.checks.every((c) => c.passed || c.informational)).toBe(true);
    expect(run.outcome('microvm-bookworm+old-api', 'fullnat-toa-v4')?.failure).toBe('not-run');

    const ours = cells.find((c) => c.cell === 'microvm-bookworm+toa-lab')!;
    const old = cells.find((c) => c.cell === 'microvm-bookworm+old-api')!;
    expect(ours).toMatchObject({ module: 'toa-lab', image: 'microvm-bookworm', moduleVerdict: 'passed', moduleStatus: 'passed' });
    expect(old).toMatchObject({ module: 'old-api', image: 'microvm-bookworm', moduleVerdict: 'did not build', moduleStatus: 'failed' });
    // The compiler's own first error line, and the kernel release although the module never booted.
    expect(old.moduleWords).toMatch(/error: implicit declaration of function .kallsyms_lookup_name/);
    expect(old.kernel).toBe(ours.kernel);

    const table = run.report.slice(run.report.indexOf('**Module × kernel compatibility**'), run.report.indexOf('| scenario |'));
    expect(table).toContain(`| module | microvm-bookworm<br>${ours.kernel} |`);
    expect(table).toMatch(/\| toa-lab \| ✅ passed \|/);
    expect(table).toMatch(/\| old-api \| ❌ did not build<br>`[^`]*kallsyms_lookup_name[^`]*` \|/);
    expect(readFileSync(join(run.out, 'summary.md'), 'utf8')).toContain('**Module × kernel compatibility**');
    // The mechanisms table: a TOA row per module on the one backend, from the results' typed mechanism.
    const mechanisms = run.report.slice(run.report.indexOf('**Mechanisms × backend**'), run.report.indexOf('| scenario |'));
    expect(mechanisms).toContain('| TOA module (toa-lab) | ✅ 1/1 passed |');
    expect(mechanisms).toContain('| TOA module (old-api) | ⏸️ 1 not run |');
    expect(run.outcome('microvm-bookworm+toa-lab', 'fullnat-toa-v4')?.mechanism).toBe('toa');
    // junit/<cell>.xml with the cell id made a safe file name ('+' → '_').
    expect(readFileSync(join(run.out, 'junit', 'microvm-bookworm_old-api.xml'), 'utf8')).toContain('<property name="module" value="old-api"/>');
  });
});
