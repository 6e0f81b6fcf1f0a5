import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { balancerFrom, moduleSpecsOf } from '../../../harness/cli/run-command.ts';
import { UsageError } from '../../../harness/core/usage-error.ts';

const BIN = join(import.meta.dirname, '..', '..', '..', 'bin', 'toa-lab.js');

function toaLab(...args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 }, (error, _stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stderr });
    });
  });
}

describe('--balancer, --toa-kind and the module spec flags', () => {
  it('--balancer picks a profile; --toa-kind N is the standard TOA under N; never both', () => {
    expect(balancerFrom(undefined, undefined)).toMatchObject({ name: 'lvs-v4', kind: 254 });
    expect(balancerFrom('alibaba-cdn-v4', undefined)).toMatchObject({ kind: 28, length: 7 });
    expect(balancerFrom(undefined, '200')).toMatchObject({ name: 'ucloud-v4', kind: 200 });
    expect(() => balancerFrom('lvs-v4', '200')).toThrow(UsageError);
    expect(() => balancerFrom('lvs-v4', '200')).toThrow(/give one/);
    expect(() => balancerFrom('f5-bigip', undefined)).toThrow(/--balancer: unknown balancer profile 'f5-bigip'; known: lvs-v4/);
    expect(() => balancerFrom(undefined, '2x')).toThrow(/--toa-kind wants an option kind 0–255, got '2x'/);
  });

  it('module spec errors are usage errors', () => {
    expect(moduleSpecsOf(undefined, undefined, ['200,253,254'], 254)[0]!.kinds).toEqual([200, 253, 254]);
    expect(() => moduleSpecsOf(undefined, undefined, ['200,,254'], 254)).toThrow(UsageError);
    expect(() => moduleSpecsOf(['/nonexistent/toa'], undefined, undefined, 254)).toThrow(/--toa-source: no such directory or tarball/);
    expect(() => moduleSpecsOf(['ours', 'u=/nonexistent/toa'], undefined, undefined, 254)).toThrow(/no such directory or tarball: \/nonexistent\/toa/);
  });

  // Each spawns node + tsx: seconds apiece on a loaded 2-core machine.
  it('the CLI exits 2 before anything boots: unknown profile, both flags, bad kinds, a profile the selected scenarios cannot judge', { timeout: 120_000 }, async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'toa-lab-profile-flags-')), 'out');
    const cases: Array<[string[], RegExp]> = [
      [['--balancer', 'nope'], /--balancer: unknown balancer profile 'nope'; known: lvs-v4, lvs-v6, huawei-v6/],
      [['--balancer', 'ucloud-v4', '--toa-kind', '200'], /--balancer and --toa-kind both say what the balancer sends/],
      [['--module-kinds', '200,abc'], /--module-kinds: 'abc' is not a TCP option kind/],
      [['--module-kinds', 'ucloud=200'], /names module 'ucloud', but the module under test is 'toa-lab'/],
      [['--balancer', 'alibaba-cdn-v4', '--image', 'microvm-bookworm'], /--balancer alibaba-cdn-v4 .* is judged only by --scenario balancer-profiles; the selection also has fullnat-toa-v4/],
    ];
    const results = await Promise.all(cases.map(([args]) => toaLab('run', ...args, '--out', out)));
    results.forEach((result, i) => {
      expect(result.code, cases[i]![0].join(' ')).toBe(2);
      expect(result.stderr).toMatch(cases[i]![1]);
    });
    expect(existsSync(out)).toBe(false);
  });
});
