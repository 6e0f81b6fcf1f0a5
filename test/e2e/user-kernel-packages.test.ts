import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveKernel } from '../../harness/kernels/archive-kernels.ts';
import { removeRunFolders, runToaLab } from '../helpers/toa-lab-run.ts';

afterAll(removeRunFolders);

/**
 * A kernel the lab did not pick, as a user brings it: bookworm-backports'
 * newest 6.12 (none of the default cells), fetched with plain `apt-get
 * download` and renamed, so nothing can come from the archive index or the
 * file names — only from the packages. Its headers were built by bookworm's
 * gcc-12 and split over three packages (-amd64, -common, linux-kbuild).
 *
 * Cost: ~2.5 min cold (122 MB of packages, a bookworm build chroot, the
 * image), ~40 s warm (boot + two scenarios + the CLI).
 */
describe('a user\'s own kernel packages (--kernel-deb, --headers-deb)', () => {
  let dir: string;
  let release: string;

  beforeAll(async () => {
    const kernel = await resolveKernel({ suite: 'bookworm-backports', flavour: 'generic' });
    release = kernel.release;
    dir = mkdtempSync(join(tmpdir(), 'toa-lab-user-kernel-'));
    const names = [kernel.image.name, kernel.headers.name, `linux-headers-${release.replace(/-amd64$/, '-common')}`, `linux-kbuild-${release.replace(/-amd64$/, '')}`];
    execFileSync('apt-get', [...kernel.aptOptions, 'download', ...names.map((n) => `${n}=${kernel.image.version}`)], { cwd: dir, stdio: 'ignore', timeout: 600_000 });
    for (const file of readdirSync(dir)) {
      const role = file.startsWith('linux-image-') ? 'kernel' : file.startsWith('linux-kbuild-') ? 'kbuild' : file.includes('-common_') ? 'common' : 'headers';
      renameSync(join(dir, file), join(dir, `vendor-${role}.deb`));
    }
  }, 600_000);

  const debs = (...roles: string[]) => roles.flatMap((role) => [role === 'kernel' ? '--kernel-deb' : '--headers-deb', join(dir, `vendor-${role}.deb`)]);

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
    // The guest's own console: it ran that kernel.
    expect(readFileSync(join(run.out, `console-${cell}.log`), 'utf8')).toContain(`Linux version ${release}`);
  });
});
