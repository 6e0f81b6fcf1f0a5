import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  guestTreeDir,
  renderGrubAsInstalledScript,
  renderGuestInstallKernelScript,
  renderGuestModulesInstallScript,
  stageGuestInstallInputs,
} from '../../../harness/patched-kernel/debian-make-install.ts';
import { debian12AutoloadFiles } from '../../../harness/patched-kernel/autoload-files.ts';

const hasShellcheck = spawnSync('shellcheck', ['--version']).status === 0;
const RELEASE = '6.1.192-toa';
const RENDERED: Record<string, string> = {
  'grub-as-installed.sh': renderGrubAsInstalledScript(),
  'modules-install.sh': renderGuestModulesInstallScript(RELEASE),
  'install-kernel.sh': renderGuestInstallKernelScript(RELEASE),
};

describe("make modules_install / make install on the lab's Debian 12 image (guest scripts)", () => {
  const dir = mkdtempSync(join(tmpdir(), 'toa-lab-pk-debian-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('are valid sh (and shellcheck-clean where shellcheck is installed)', () => {
    for (const [name, text] of Object.entries(RENDERED)) {
      const check = spawnSync('sh', ['-n'], { input: text, encoding: 'utf8' });
      expect(check.status, `${name}: ${check.stderr}`).toBe(0);
      expect(text.startsWith('#!/bin/sh\n# toa-lab: ')).toBe(true);
    }
    if (!hasShellcheck) return;
    const files = Object.entries(RENDERED).map(([name, text]) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    });
    const sh = spawnSync('shellcheck', ['--shell=sh', '--format=gcc', ...files], { encoding: 'utf8' });
    expect(sh.stdout + sh.stderr).toBe('');
  });

  it("make install is the kernel's own installkernel call, run in the tree, and checks what the postinst.d hooks must leave", () => {
    const script = RENDERED['install-kernel.sh']!;
    expect(script).toContain(`cd ${guestTreeDir(RELEASE)} `);
    expect(script).toContain('installkernel "$release" arch/x86/boot/bzImage System.map /boot');
    expect(script).toContain('for f in vmlinuz System.map config initrd.img; do');
    expect(script).toContain('grep -q "vmlinuz-$release" /boot/grub/grub.cfg');
    expect(RENDERED['modules-install.sh']).toContain('depmod "$release"');
  });

  it('GRUB as installed: update-grub only when there is no grub.cfg yet', () => {
    const script = RENDERED['grub-as-installed.sh']!;
    expect(script).toMatch(/if \[ -f \/boot\/grub\/grub.cfg \]; then\n {2}echo "toa-lab: \/boot\/grub\/grub.cfg exists; kept"\nelse\n {2}mkdir -p \/boot\/grub\n {2}update-grub/);
  });

  it('stages the tree files make install reads and the modules, without the host-tree links, with the refreshed toa.ko', async () => {
    const stage = join(dir, 'stage');
    mkdirSync(join(stage, 'boot'), { recursive: true });
    for (const f of ['vmlinuz', 'System.map', 'config']) writeFileSync(join(stage, 'boot', `${f}-${RELEASE}`), f);
    const modules = join(stage, 'lib', 'modules', RELEASE);
    mkdirSync(join(modules, 'kernel', 'net', 'toa'), { recursive: true });
    writeFileSync(join(modules, 'kernel', 'net', 'toa', 'toa.ko'), 'staged toa.ko');
    writeFileSync(join(modules, 'modules.dep'), 'kernel/net/toa/toa.ko:\n');
    symlinkSync('/nonexistent/host/tree', join(modules, 'build'));
    symlinkSync('/nonexistent/host/tree', join(modules, 'source'));
    writeFileSync(join(dir, 'refreshed.ko'), 'refreshed toa.ko');

    const inputs = await stageGuestInstallInputs({ stagingRoot: stage, release: RELEASE, toaModule: join(dir, 'refreshed.ko'), dir: join(dir, 'out') });
    expect(readFileSync(join(inputs.tree, 'arch', 'x86', 'boot', 'bzImage'), 'utf8')).toBe('vmlinuz');
    expect(readFileSync(join(inputs.tree, 'System.map'), 'utf8')).toBe('System.map');
    expect(readFileSync(join(inputs.tree, '.config'), 'utf8')).toBe('config');
    expect(readFileSync(join(inputs.modules, 'kernel', 'net', 'toa', 'toa.ko'), 'utf8')).toBe('refreshed toa.ko');
    expect(existsSync(join(inputs.modules, 'modules.dep'))).toBe(true);
    expect(existsSync(join(inputs.modules, 'build')) || existsSync(join(inputs.modules, 'source'))).toBe(false);
  });
});

describe('modprobe toa at boot and in the cron monitor, the Debian way', () => {
  it('modules-load.d names the module (systemd-modules-load modprobes it); the cron.d file is the CentOS one', () => {
    const files = debian12AutoloadFiles();
    expect(files.startupScript).toEqual({ path: '/etc/modules-load.d/toa.conf', content: 'toa\n', mode: 0o644 });
    expect(files.cronFile.content).toBe('* * * * * root /sbin/modprobe toa\n');
    expect(files.monitorCommand).toBe('/sbin/modprobe toa');
  });
});
