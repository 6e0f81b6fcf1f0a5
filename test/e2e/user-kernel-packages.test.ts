import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeRunFolders, runToaLab } from '../helpers/toa-lab-run.ts';
import { downloadBackportsKernel, type DownloadedKernel } from '../helpers/user-kernel-packages.ts';

afterAll(removeRunFolders);

/**
 * A kernel the lab did not pick, as a user brings it (test/helpers/user-kernel-packages.ts):
 * bookworm-backports' newest 6.12, fetched with plain `apt-get download` and
 * renamed, so nothing can come from the archive index or the file names —
 * only from the packages. The same kernel as RPMs: test/e2e-full/user-kernel-rpm.test.ts.
 *
 * Cost: ~2.5 min cold (122 MB of packages, a bookworm build chroot, the
 * image), ~45 s warm (download, boot, two scenarios, the CLI).
 */
describe('a user\'s own kernel packages (--kernel-deb, --headers-deb)', () => {
  let kernel: DownloadedKernel;
  let release: string;

  beforeAll(async () => {
    kernel = await downloadBackportsKernel();
    release = kernel.release;
  }, 600_000);

  const debs = (...roles: Array<'kernel' | 'headers' | 'common' | 'kbuild'>) => roles.flatMap((role) => [role === 'kernel' ? '--kernel-deb' : '--headers-deb', kernel.deb(role)]);

  it('headers without their -common and kbuild parts: exit 2 before anything boots, naming what is missing', () => {
    const run = runToaLab([...debs('kernel', 'headers'), '--scenario', 'fullnat-toa-v4'], { timeoutMs: 120_000 });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/the headers need linux-headers-\S+-common, linux-kbuild-\S+ to build modules/);
    expect(run.records).toEqual([]);
  });

  it('boots that kernel, builds toa.ko with the gcc its headers name, and passes the data path', () => {
    const run = runToaLab([...debs('kernel', 'headers', 'common', 'kbuild'), '--scenario', 'fullnat-toa-v4,fullnat-no-toa'], { timeoutMs: 900_000 });
    const cell = `microvm-deb-${release}`;
    expect(run.stderr).toContain(`kernel ${release}, built with x86_64-linux-gnu-gcc-12`);
    expect(run.outcome(cell, 'fullnat-toa-v4')?.checks.every((c) => c.passed), JSON.stringify(run.records)).toBe(true);
    expect(run.outcome(cell, 'fullnat-no-toa')?.checks.every((c) => c.passed)).toBe(true);
    expect(run.code).toBe(0);
    // The guest's own console: its init announced that kernel's `uname -r`.
    expect(readFileSync(join(run.out, `console-${cell}.log`), 'utf8')).toContain(`guest ready kernel=${release}`);
  });
});
