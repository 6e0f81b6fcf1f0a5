import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { applyGuideConfig } from '../../../harness/patched-kernel/kernel-config.ts';
import { DEBIAN_LINUX_SOURCE, LVS_TARBALL } from '../../../harness/patched-kernel/kernel-source.ts';
import { appendExtraversion } from '../../../harness/patched-kernel/kernel-makefile.ts';
import { bootKernelByDefaultGrubLegacy, addGrubLegacyEntry } from '../../../harness/patched-kernel/grub-legacy.ts';
import {
  renderBaseConfigScript,
  renderBuildScript,
  renderKernelInstallScript,
  renderModulesInstallScript,
  renderObtainSourceScript,
  renderResolveConfigScript,
} from '../../../harness/patched-kernel/scripts.ts';
import { setToaOptionKind } from '../../../harness/patched-kernel/toa-header.ts';

const repo = join(import.meta.dirname, '../../..');
const fixture = (name: string): string => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');
const hasShellcheck = spawnSync('shellcheck', ['--version']).status === 0;
if (!hasShellcheck) console.warn('shellcheck is not installed (scripts/install-deps.sh installs it): patched-kernel scripts are NOT linted');

const RENDERED: Record<string, string> = {
  'obtain-lvs-url.sh': renderObtainSourceScript(LVS_TARBALL, '/root/toa'),
  'obtain-lvs-path.sh': renderObtainSourceScript({ kind: 'lvs-tarball', location: '/srv/Linux-2.6.32.rs.src.tar.gz', tree: 'linux-2.6.32.rs' }, '/root/toa'),
  'obtain-debian.sh': renderObtainSourceScript(DEBIAN_LINUX_SOURCE, '/usr/src/toa'),
  'base-config.sh': renderBaseConfigScript('/usr/src/toa/linux-source-6.1'),
  'resolve-config.sh': renderResolveConfigScript('/root/toa/linux-2.6.32.rs'),
  'build.sh': renderBuildScript({ treeDir: '/root/toa/linux-2.6.32.rs' }),
  'build-j4.sh': renderBuildScript({ treeDir: '/root/toa/linux-2.6.32.rs', jobs: 4 }),
  'modules-install.sh': renderModulesInstallScript({ treeDir: '/root/toa/t' }),
  'modules-install-staged.sh': renderModulesInstallScript({ treeDir: '/root/toa/t', stagingRoot: '/tmp/stage' }),
  'install.sh': renderKernelInstallScript({ treeDir: '/root/toa/t' }),
  'install-staged.sh': renderKernelInstallScript({ treeDir: '/root/toa/t', stagingRoot: '/tmp/stage', installKernelHome: '/tmp/home' }),
};

describe('the patched-kernel procedure as guest scripts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'toa-lab-pk-scripts-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.skipIf(!hasShellcheck)('shellcheck finds nothing in the rendered scripts, the guest init and installkernel', () => {
    const files = Object.entries(RENDERED).map(([name, text]) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    });
    files.push(join(repo, 'native/toa-intree/installkernel'));
    const sh = spawnSync('shellcheck', ['--shell=sh', '--format=gcc', ...files], { encoding: 'utf8' });
    expect(sh.stdout + sh.stderr).toBe('');
    // The init runs under busybox sh (ash): checked as such through its shebang-less dialect.
    const init = spawnSync('shellcheck', ['--shell=dash', '--format=gcc', join(repo, 'harness/patched-kernel/guest-init.sh')], { encoding: 'utf8' });
    expect(init.stdout + init.stderr).toBe('');
  });

  it('every script is valid sh, installs nothing silently and names the guide step it carries', () => {
    for (const [name, text] of Object.entries(RENDERED)) {
      const check = spawnSync('sh', ['-n'], { input: text, encoding: 'utf8' });
      expect(check.status, `${name}: ${check.stderr}`).toBe(0);
      expect(text.startsWith('#!/bin/sh\n# toa-lab: ')).toBe(true);
    }
    expect(RENDERED['obtain-lvs-url.sh']).toContain('curl -fsSL');
    expect(RENDERED['obtain-lvs-path.sh']).not.toContain('curl');
    expect(RENDERED['obtain-debian.sh']).toContain('for p in "$pkg" flex bison bc libelf-dev libssl-dev; do');
    expect(RENDERED['obtain-debian.sh']).toContain('apt-get install -y -q --no-install-recommends "$@"');
    expect(RENDERED['build-j4.sh']).toContain('jobs=4');
    expect(RENDERED['install-staged.sh']).toContain("HOME=/tmp/home make install INSTALL_PATH=\"$stage/boot\"");
  });
});

/**
 * The TypeScript edits and harness/os's CentOS 6.8 script (its golden toa-build.sh) must
 * agree: run the golden script's own sed/printf lines on the same files and compare.
 */
describe('consistency with the CentOS 6.8 golden toa-build script', () => {
  const golden = readFileSync(join(repo, 'test/unit/os/golden/centos-6.8/toa-build.sh'), 'utf8').split('\n');
  const lines = (pattern: RegExp): string[] => golden.filter((l) => pattern.test(l));
  const dir = mkdtempSync(join(tmpdir(), 'toa-lab-pk-golden-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const runGolden = (file: string, content: string, commands: string[], target: string): string => {
    writeFileSync(join(dir, file), content);
    const result = spawnSync('sh', ['-c', [...commands, ...(target === file ? [] : [])].join('\n')], { cwd: dir, encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    return readFileSync(join(dir, file), 'utf8');
  };

  it('toa.h: same result as the golden sed', () => {
    const header = fixture('lvs-toa.h');
    const sed = lines(/^sed -i .*TCPOPT_TOA/);
    expect(sed).toHaveLength(1);
    const shell = runGolden('toa.h', header, [sed[0]!.replace('net/toa/toa.h', 'toa.h')], 'toa.h');
    expect(setToaOptionKind(header, 254).content).toBe(shell);
  });

  it('.config: same result as the golden sed + printf (IPv6 as a module, TOA absent)', () => {
    const config = 'CONFIG_INET=y\nCONFIG_IPV6=m\nCONFIG_KPROBES=y\n';
    const shell = runGolden('.config', config, lines(/\.config$/).filter((l) => /^(sed|grep)/.test(l)), '.config');
    expect(applyGuideConfig(config).content).toBe(shell);
  });

  it('Makefile: same EXTRAVERSION as the golden sed', () => {
    const makefile = 'VERSION = 2\nPATCHLEVEL = 6\nSUBLEVEL = 32\nEXTRAVERSION = -220.23.1.el6.x86_64.rs\n';
    const sed = lines(/^grep -q '\^EXTRAVERSION =\.\*-toa\$' Makefile \|\| sed/);
    const shell = runGolden('Makefile', makefile, sed, 'Makefile');
    expect(appendExtraversion(makefile, '-toa').content).toBe(shell);
  });

  it('grub.conf: the golden script assumes the -toa stanza is entry 0; the TypeScript edit finds it and agrees', () => {
    const release = '2.6.32-220.23.1.el6.x86_64.rs-toa';
    const installed = addGrubLegacyEntry(fixture('centos6-grub.conf'), { title: `CentOS (${release})`, root: '(hd0,0)', kernel: `/vmlinuz-${release}`, args: ['ro', 'root=/dev/mapper/VolGroup-lv_root'] }).content;
    const sed = lines(/^sed -i .*"\$grub"$/).map((l) => l.replace('"$grub"', 'grub.conf'));
    expect(sed).toHaveLength(2);
    const shell = runGolden('grub.conf', installed, sed, 'grub.conf');
    expect(bootKernelByDefaultGrubLegacy(installed, { release, addArgs: ['nohz=off'] }).content).toBe(shell);
  });
});
