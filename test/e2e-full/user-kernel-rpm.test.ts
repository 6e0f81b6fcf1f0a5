import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeRunFolders, runToaLab } from '../helpers/toa-lab-run.ts';
import { downloadBackportsKernel, repackageAsRpms, type DownloadedKernel } from '../helpers/user-kernel-packages.ts';

afterAll(removeRunFolders);

/**
 * A kernel as RPMs (--kernel-rpm, --devel-rpm). Vendor RPMs (CentOS, Rocky,
 * openSUSE) cannot be downloaded here, so bookworm-backports' 6.12 is
 * repackaged with Debian's rpmbuild as kernel-core and kernel-devel
 * (/usr/src/kernels/<release>), renamed, and run through the CLI: read with
 * rpm, unpacked with rpm2cpio, toa.ko built with the gcc its .config names.
 *
 * Cost: ~1.5 min to repackage, ~1.5 min for the run warm (~3 min cold: a build chroot, the image).
 */
describe('a user\'s own kernel as RPMs', () => {
  let kernel: DownloadedKernel;
  let rpms: { core: string; devel: string };

  beforeAll(async () => {
    kernel = await downloadBackportsKernel();
    rpms = repackageAsRpms(kernel);
  }, 900_000);

  it('a kernel-devel of another build: exit 2 before anything boots', () => {
    const run = runToaLab(['--kernel-rpm', rpms.core, '--devel-rpm', rpms.core, '--scenario', 'fullnat-toa-v4'], { timeoutMs: 300_000 });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`--devel-rpm: no headers for ${kernel.release} (no /usr/src/kernels/${kernel.release}/.config)`);
    expect(run.records).toEqual([]);
  });

  it('boots the kernel from the RPM, builds toa.ko against kernel-devel, and passes the data path', () => {
    const run = runToaLab(['--kernel-rpm', rpms.core, '--devel-rpm', rpms.devel, '--scenario', 'fullnat-toa-v4,fullnat-no-toa,malformed-options'], {
      timeoutMs: 1_200_000,
    });
    const cell = `microvm-rpm-${kernel.release}`;
    expect(run.stderr).toContain(`--kernel-rpm: kernel-core`);
    for (const scenario of ['fullnat-toa-v4', 'fullnat-no-toa', 'malformed-options']) {
      expect(run.outcome(cell, scenario)?.checks.every((c) => c.passed), `${scenario}: ${JSON.stringify(run.outcome(cell, scenario))}`).toBe(true);
    }
    expect(run.code).toBe(0);
    expect(readFileSync(join(run.out, `console-${cell}.log`), 'utf8')).toContain(`guest ready kernel=${kernel.release}`);
  });
});
