import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseBuildSuite, type SuiteCompilers } from '../../../harness/kernels/build-suite.ts';
import {
  compilerOf,
  gccMajorOf,
  headerBuildDepends,
  inspectKernelPackages,
  KernelPackagesError,
  kernelReleasesIn,
  missingHeaderParts,
  userKernelCellName,
} from '../../../harness/kernels/kernel-packages.ts';
import { recipeKey, userKernelChrootRecipe } from '../../../harness/kernels/suite-chroot.ts';

describe('a user kernel\'s packages, read from the packages', () => {
  it('finds the release where the kernel sits, in one-package and split 7.x layouts', () => {
    expect(kernelReleasesIn(['./boot/', './boot/vmlinuz-6.1.0-41-amd64', './boot/config-6.1.0-41-amd64'])).toEqual(['6.1.0-41-amd64']);
    expect(kernelReleasesIn(['./usr/lib/modules/7.2.13+deb14-amd64/vmlinuz', './usr/lib/modules/7.2.13+deb14-amd64/kernel/'])).toEqual(['7.2.13+deb14-amd64']);
    expect(kernelReleasesIn(['./usr/share/doc/linux-image-7.2.13+deb14-amd64/changelog.gz'])).toEqual([]);
  });

  it('reads the compiler from the headers\' .config, before and after 5.8', () => {
    expect(compilerOf('CONFIG_CC_VERSION_TEXT="x86_64-linux-gnu-gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0"\n')).toBe('x86_64-linux-gnu-gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0');
    expect(compilerOf('CONFIG_GCC_VERSION=80300\n')).toBe('gcc 8.3.0');
    expect(compilerOf('CONFIG_X86=y\n')).toBeUndefined();
  });

  it('takes the gcc major from Debian, Ubuntu and Red Hat descriptions, and none from clang', () => {
    expect(gccMajorOf('x86_64-linux-gnu-gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0')).toBe(12);
    expect(gccMajorOf('x86_64-linux-gnu-gcc-13 (Ubuntu 13.2.0-23ubuntu4) 13.2.0')).toBe(13);
    expect(gccMajorOf('gcc (GCC) 8.5.0 20210514 (Red Hat 8.5.0-4)')).toBe(8);
    expect(gccMajorOf('gcc 10.2.1')).toBe(10);
    expect(gccMajorOf('Debian clang version 16.0.6 (15)')).toBeUndefined();
  });

  it('names the header parts the headers depend on and nobody gave', () => {
    // As bookworm-backports' 6.12.95 headers and kbuild say (dpkg-deb -f … Depends).
    const headers = [
      {
        name: 'linux-headers-6.12.95+deb12-amd64',
        depends: [['linux-base'], ['linux-headers-6.12.95+deb12-common'], ['linux-image-6.12.95+deb12-amd64', 'linux-image-6.12.95+deb12-amd64-unsigned'], ['linux-kbuild-6.12.95+deb12'], ['gcc-12']],
      },
    ];
    const kbuild = { name: 'linux-kbuild-6.12.95+deb12', depends: [['libc6'], ['libelf1'], ['libssl3'], ['zlib1g'], ['pahole']] };
    expect(missingHeaderParts(headers)).toEqual(['linux-headers-6.12.95+deb12-common', 'linux-kbuild-6.12.95+deb12']);
    const all = [...headers, { name: 'linux-headers-6.12.95+deb12-common', depends: [] }, kbuild];
    expect(missingHeaderParts(all)).toEqual([]);
    // The kernel image the headers name is not needed to build; the tools are.
    expect(headerBuildDepends(all)).toEqual(['gcc-12', 'libc6', 'libelf1', 'libssl3', 'linux-base', 'pahole', 'zlib1g']);
  });

  it('names a cell so it never collides with an archive kernel\'s', () => {
    expect(userKernelCellName('6.12.95+deb12-amd64')).toBe('microvm-deb-6.12.95+deb12-amd64');
    expect(userKernelCellName('4.18.0-553.el8_10.x86_64', 'rpm')).toBe('microvm-rpm-4.18.0-553.el8_10.x86_64');
  });

  it('keys the build chroot by the headers\' content, not where the files are', () => {
    const a = userKernelChrootRecipe('bookworm', { release: 'r', headers: [{ sha256: 'aa', path: '/tmp/x/h.deb' }], gccPackage: 'gcc-12', buildDepends: [], format: 'deb', headersDir: '/usr/src/linux-headers-r' });
    const b = userKernelChrootRecipe('bookworm', { release: 'r', headers: [{ sha256: 'aa', path: '/home/u/renamed.deb' }], gccPackage: 'gcc-12', buildDepends: [], format: 'deb', headersDir: '/usr/src/linux-headers-r' });
    const c = userKernelChrootRecipe('bookworm', { release: 'r', headers: [{ sha256: 'bb', path: '/tmp/x/h.deb' }], gccPackage: 'gcc-12', buildDepends: [], format: 'deb', headersDir: '/usr/src/linux-headers-r' });
    expect(recipeKey(a)).toBe(recipeKey(b));
    expect(recipeKey(a)).not.toBe(recipeKey(c));
  });
});

describe('the suite that builds for a user kernel', () => {
  const offers: SuiteCompilers[] = [
    { suite: 'bullseye', defaultGcc: 10, served: [9, 10] },
    { suite: 'bookworm', defaultGcc: 12, served: [11, 12] },
    { suite: 'trixie', defaultGcc: 14, served: [13, 14] },
    { suite: 'sid', defaultGcc: 16, served: [14, 15, 16] },
  ];

  it('is the one whose default gcc built the kernel', () => {
    expect(chooseBuildSuite('x86_64-linux-gnu-gcc-12 (Debian 12.2.0-14) 12.2.0', offers)).toEqual({ suite: 'bookworm', gccPackage: 'gcc-12' });
  });

  it('else one that serves that gcc, said as a note', () => {
    const choice = chooseBuildSuite('x86_64-linux-gnu-gcc-13 (Ubuntu 13.2.0-23ubuntu4) 13.2.0', offers);
    expect(choice).toMatchObject({ suite: 'trixie', gccPackage: 'gcc-13' });
    expect(choice.note).toContain('not its default gcc-14');
  });

  it('else the closest, saying no suite has it', () => {
    const choice = chooseBuildSuite('gcc (GCC) 8.5.0 20210514 (Red Hat 8.5.0-4)', offers);
    expect(choice).toMatchObject({ suite: 'bullseye', gccPackage: 'gcc-10' });
    expect(choice.note).toMatch(/no suite of the archive serves gcc 8.*closest is bullseye's gcc-10/);
  });

  it('falls back to bookworm, saying so, when the headers do not name a gcc', () => {
    expect(chooseBuildSuite(undefined, offers)).toMatchObject({ suite: 'bookworm', gccPackage: 'gcc-12' });
    expect(chooseBuildSuite('Debian clang version 16.0.6', offers).note).toContain('do not say which gcc');
  });
});

describe('bad kernel packages: a clear error before anything boots', () => {
  /** A real (tiny) .deb built by dpkg-deb: enough for the checks that read control fields and file lists. */
  function fakeDeb(dir: string, name: string, files: Record<string, string>, control: Record<string, string> = {}): string {
    const root = join(dir, `${name}-root`);
    mkdirSync(join(root, 'DEBIAN'), { recursive: true });
    const fields = { Package: name, Version: '1.0', Architecture: 'amd64', Maintainer: 'toa-lab <lab@example.org>', Description: 'test', ...control };
    writeFileSync(join(root, 'DEBIAN', 'control'), Object.entries(fields).map(([k, v]) => `${k}: ${v}`).join('\n') + '\n');
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(join(root, path, '..'), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    const deb = join(dir, `${name}.deb`);
    execFileSync('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', root, deb], { stdio: 'ignore' });
    return deb;
  }

  it('says which file is missing, not a Debian package, has no kernel, or has headers of another build', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'toa-lab-kernel-debs-')); // inside the run's temp folder (test/temp-folder.ts)
    const kernel = fakeDeb(dir, 'linux-image-9.9.9-test', { 'boot/vmlinuz-9.9.9-test': 'x' });
    const headers = fakeDeb(dir, 'linux-headers-9.9.9-test', { 'usr/src/linux-headers-9.9.9-test/.config': 'CONFIG_CC_VERSION_TEXT="gcc-12 (Debian 12.2.0-14) 12.2.0"\n' });
    const otherHeaders = fakeDeb(dir, 'linux-headers-1.2.3-other', { 'usr/src/linux-headers-1.2.3-other/.config': '' });
    const empty = fakeDeb(dir, 'linux-image-7.2-split', { 'usr/share/doc/linux-image-7.2-split/copyright': '' });
    const needy = fakeDeb(dir, 'linux-headers-9.9.9-needy', { 'usr/src/linux-headers-9.9.9-test/.config': '' }, { Depends: 'linux-kbuild-9.9, gcc-12' });
    writeFileSync(join(dir, 'not-a.deb'), 'hello');

    const error = (k: string[], h: string[]) => inspectKernelPackages(k, h).then(() => null, (e: unknown) => e);
    expect(await error([join(dir, 'nope.deb')], [headers])).toBeInstanceOf(KernelPackagesError);
    expect(String(await error([join(dir, 'nope.deb')], [headers]))).toContain('no such file');
    expect(String(await error([join(dir, 'not-a.deb')], [headers]))).toContain('not a Debian package');
    expect(String(await error([kernel], []))).toContain('needs --headers-deb');
    expect(String(await error([empty], [headers]))).toContain('no kernel image inside');
    expect(String(await error([kernel], [otherHeaders]))).toMatch(/no headers for 9\.9\.9-test.*linux-headers-1\.2\.3-other/);
    expect(String(await error([kernel], [needy]))).toContain('need linux-kbuild-9.9');

    // The RPM flags read with rpm: a .deb is not one.
    expect(String(await inspectKernelPackages([kernel], [headers], 'rpm').catch((e: unknown) => e))).toContain('--kernel-rpm');
    expect(String(await inspectKernelPackages([kernel], [headers], 'rpm').catch((e: unknown) => e))).toContain('not an RPM package');

    const good = await inspectKernelPackages([kernel], [headers]);
    expect(good).toMatchObject({ release: '9.9.9-test', compiler: 'gcc-12 (Debian 12.2.0-14) 12.2.0' });
    expect(good.kernel[0]).toMatchObject({ name: 'linux-image-9.9.9-test', version: '1.0' });
    expect(good).toMatchObject({ format: 'deb', headersDir: '/usr/src/linux-headers-9.9.9-test' });
  });
});
