import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ResultRecord } from '../../harness/report/results-store.ts';

/**
 * A vendor's module on a whole OS, through the CLI: `--toa-source` is pushed to
 * the guest and built by the guide's own steps (make, insmod, autoload), then
 * the data-path scenarios run on it. Here the "vendor" source is a copy of
 * native/toa, so it must pass; scenarios that rely on toa-lab's own module
 * parameters are skipped for a vendor module, not failed.
 */
describe('full OS: a vendor module from --toa-source', () => {
  it("is built and installed by the guide's steps in the guest and passes the data-path scenarios", () => {
    const root = join(import.meta.dirname, '..', '..');
    const out = mkdtempSync(join(tmpdir(), 'toa-lab-full-os-vendor-ok-'));
    const scenarios = 'guide-procedure,reboot-persistence,fullnat-toa-v4,fullnat-no-toa,toa-kind-filter';
    const result = spawnSync(
      process.execPath,
      [join(root, 'bin', 'toa-lab.js'), 'run', '--image', 'debian-12', '--scenario', scenarios, '--toa-source', join(root, 'native/toa'), '--out', out],
      { encoding: 'utf8', timeout: 1_200_000 },
    );
    expect(result.status, result.stdout.slice(-3000)).toBe(0);
    const records = readFileSync(join(out, 'results.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as ResultRecord);
    expect(records.map((r) => [r.outcome.scenario, r.outcome.skipped !== undefined])).toEqual([
      ['guide-procedure', false],
      ['reboot-persistence', false],
      ['fullnat-toa-v4', false],
      ['fullnat-no-toa', false],
      ['toa-kind-filter', true],
    ]);
    const steps = records[0]!.outcome.steps!.map((s) => s.name);
    expect(steps[0]).toMatch(/^fetch the TOA source/);
    expect(steps).toContain(`push ${join(root, 'native/toa')} to /root/toa`);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('debian-12: module verdict: passed');
  });
});
