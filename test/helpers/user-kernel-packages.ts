import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveKernel } from '../../harness/kernels/archive-kernels.ts';

/**
 * A kernel the lab did not pick, fetched as a user would: bookworm-backports'
 * newest 6.12 (none of the default cells), with plain `apt-get download`, the
 * files renamed so nothing can come from their names. Its headers were built
 * by bookworm's gcc-12 and come in three packages (-amd64, -common, kbuild).
 */
export interface DownloadedKernel {
  dir: string;
  release: string;
  /** vendor-kernel.deb, vendor-headers.deb, vendor-common.deb, vendor-kbuild.deb */
  deb: (role: 'kernel' | 'headers' | 'common' | 'kbuild') => string;
}

export async function downloadBackportsKernel(): Promise<DownloadedKernel> {
  const kernel = await resolveKernel({ suite: 'bookworm-backports', flavour: 'generic' });
  const release = kernel.release;
  const dir = mkdtempSync(join(tmpdir(), 'toa-lab-user-kernel-'));
  const flavourless = release.replace(/-amd64$/, '');
  const names = [kernel.image.name, kernel.headers.name, `linux-headers-${flavourless}-common`, `linux-kbuild-${flavourless}`];
  execFileSync('apt-get', [...kernel.aptOptions, 'download', ...names.map((n) => `${n}=${kernel.image.version}`)], { cwd: dir, stdio: 'ignore', timeout: 600_000 });
  for (const file of readdirSync(dir)) {
    const role = file.startsWith('linux-image-') ? 'kernel' : file.startsWith('linux-kbuild-') ? 'kbuild' : file.includes('-common_') ? 'common' : 'headers';
    renameSync(join(dir, file), join(dir, `vendor-${role}.deb`));
  }
  return { dir, release, deb: (role) => join(dir, `vendor-${role}.deb`) };
}

/**
 * The same kernel repackaged as RPMs with Debian's rpmbuild — vendor RPMs
 * cannot be downloaded here: `kernel-core` (the kernel and its modules,
 * /boot and /lib/modules as CentOS lays them out) and `kernel-devel` (the
 * headers, reached as /usr/src/kernels/<release> the way kernel-devel
 * installs them; the tree itself stays Debian's, -amd64 over -common with
 * kbuild's tools).
 */
export function repackageAsRpms(kernel: DownloadedKernel): { core: string; devel: string } {
  const work = join(kernel.dir, 'rpm');
  const stage = (name: string, roles: Array<'kernel' | 'headers' | 'common' | 'kbuild'>): string => {
    const root = join(work, `${name}-stage`);
    mkdirSync(root, { recursive: true });
    for (const role of roles) execFileSync('sh', ['-c', 'dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2"', 'sh', kernel.deb(role), root]);
    rmSync(join(root, 'usr', 'share', 'doc'), { recursive: true, force: true });
    return root;
  };
  const core = stage('kernel-core', ['kernel']);
  const devel = stage('kernel-devel', ['headers', 'common', 'kbuild']);
  rmSync(join(devel, 'lib'), { recursive: true, force: true }); // the image's build/source links
  mkdirSync(join(devel, 'usr', 'src', 'kernels'), { recursive: true });
  symlinkSync(`../linux-headers-${kernel.release}`, join(devel, 'usr', 'src', 'kernels', kernel.release));
  const version = kernel.release.replace(/[-+].*$/, '');
  return { core: rpmbuild(work, 'kernel-core', version, core), devel: rpmbuild(work, 'kernel-devel', version, devel) };
}

function rpmbuild(work: string, name: string, version: string, stage: string): string {
  // File names with spaces or rpm's glob characters would need quoting; kernel trees have none.
  execFileSync('sh', ['-c', 'cd "$1" && find . \\( -type f -o -type l \\) | sed "s|^\\.||" > "$2"', 'sh', stage, join(work, `${name}.files`)]);
  const spec = join(work, `${name}.spec`);
  writeFileSync(
    spec,
    [
      `Name: ${name}`,
      `Version: ${version}`,
      'Release: 1.toalab',
      'Summary: a Debian kernel repackaged as RPM for toa-lab tests',
      'License: GPL-2.0-only',
      'AutoReqProv: no',
      // As they are: no stripping, no build-id links, no debuginfo, no compression of modules.
      '%global __os_install_post %{nil}',
      '%global debug_package %{nil}',
      '%global _build_id_links none',
      '%define _binary_payload w1.gzdio',
      '%description',
      'toa-lab test fixture.',
      '%install',
      `cp -a ${stage}/. %{buildroot}/`,
      `%files -f ${join(work, `${name}.files`)}`,
      '',
    ].join('\n'),
  );
  const out = join(work, 'out');
  execFileSync(
    'rpmbuild',
    ['-bb', '--nodeps', '--target', 'x86_64', '--define', `_topdir ${join(work, 'top')}`, '--define', `_rpmdir ${out}`, '--define', '_build_name_fmt %%{NAME}.rpm', spec],
    { stdio: 'ignore', timeout: 600_000 },
  );
  const rpm = join(work, `${name}-renamed.rpm`);
  renameSync(join(out, `${name}.rpm`), rpm);
  return rpm;
}
