import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeExt4Image } from '../../../harness/patched-kernel/boot-disk.ts';
import { selectBootEntryFromQcow2 } from '../../../harness/patched-kernel/firmware.ts';
import { bootKernelByDefaultGrub2 } from '../../../harness/patched-kernel/grub2.ts';

const hasTools = ['debugfs', 'mkfs.ext4', 'qemu-img'].every((tool) => spawnSync(tool, [tool === 'qemu-img' ? '--version' : '-V']).status === 0);
const CFG = readFileSync(join(import.meta.dirname, 'fixtures', 'debian12-update-grub.cfg'), 'utf8');

/**
 * The firmware step for the Debian 12 target: the guest's disk is a qcow2
 * overlay; update-grub's grub.cfg on it decides kernel, initrd and command line.
 */
describe.skipIf(!hasTools)('firmware step on a qcow2 disk with a GRUB 2 grub.cfg', () => {
  const dir = mkdtempSync(join(tmpdir(), 'toa-lab-pk-firmware-qcow2-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const disk = async (name: string, cfg: string): Promise<string> => {
    const tree = join(dir, name);
    mkdirSync(join(tree, 'boot', 'grub'), { recursive: true });
    for (const release of ['6.1.0-50-amd64', '6.1.192-toa']) {
      writeFileSync(join(tree, 'boot', `vmlinuz-${release}`), `kernel ${release}`);
      writeFileSync(join(tree, 'boot', `initrd.img-${release}`), `initrd ${release}`);
    }
    writeFileSync(join(tree, 'boot', 'grub', 'grub.cfg'), cfg);
    await makeExt4Image(tree, join(dir, `${name}.raw`));
    const qcow2 = join(dir, `${name}.qcow2`);
    expect(spawnSync('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', join(dir, `${name}.raw`), qcow2]).status).toBe(0);
    mkdirSync(join(dir, `${name}-out`));
    return qcow2;
  };

  it("boots the edited default entry's kernel and initrd, with GRUB 2's BOOT_IMAGE= and nohz=off; leaves no raw copy", async () => {
    const edited = bootKernelByDefaultGrub2(CFG, { release: '6.1.192-toa', addArgs: ['nohz=off'] }).content;
    const out = join(dir, 'edited-out');
    const boot = await selectBootEntryFromQcow2(await disk('edited', edited), out);
    expect(boot).toMatchObject({
      loader: 'grub2',
      configPath: '/boot/grub/grub.cfg',
      title: 'Advanced options for Debian GNU/Linux>Debian GNU/Linux, with Linux 6.1.192-toa',
      kernelPath: '/boot/vmlinuz-6.1.192-toa',
      initrdPath: '/boot/initrd.img-6.1.192-toa',
    });
    expect(boot.commandLine).toMatch(/^BOOT_IMAGE=\/boot\/vmlinuz-6\.1\.192-toa root=UUID=\S+ ro console=ttyS0 net\.ifnames=0 mitigations=off loglevel=5 nohz=off$/);
    expect(readFileSync(boot.kernelFile, 'utf8')).toBe('kernel 6.1.192-toa');
    expect(readFileSync(boot.initrdFile!, 'utf8')).toBe('initrd 6.1.192-toa');
    expect(existsSync(join(out, 'disk.raw'))).toBe(false);
  });

  it('without the edit, GRUB 2 boots entry 0 (update-grub put the newest kernel there), without nohz=off', async () => {
    const boot = await selectBootEntryFromQcow2(await disk('unedited', CFG), join(dir, 'unedited-out'));
    expect(boot.title).toBe('Debian GNU/Linux');
    expect(boot.kernelPath).toBe('/boot/vmlinuz-6.1.192-toa');
    expect(boot.commandLine.split(' ')).not.toContain('nohz=off');
  });
});
