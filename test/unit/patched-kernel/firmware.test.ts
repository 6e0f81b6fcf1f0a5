import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { initialGrubConf, LAB_KERNEL_ARGS, makeExt4Image } from '../../../harness/patched-kernel/boot-disk.ts';
import { selectBootEntry } from '../../../harness/patched-kernel/firmware.ts';
import { addGrubLegacyEntry, bootKernelByDefaultGrubLegacy } from '../../../harness/patched-kernel/grub-legacy.ts';

const hasE2fsprogs = spawnSync('debugfs', ['-V']).status === 0 && spawnSync('mkfs.ext4', ['-V']).status === 0;

/**
 * The harness as firmware: grub.conf on a real ext4 image (mkfs.ext4 -d, debugfs) decides
 * which kernel file and command line boot — before and after the guide's edit.
 */
describe.skipIf(!hasE2fsprogs)('firmware step: grub.conf on the disk picks the kernel', () => {
  const dir = mkdtempSync(join(tmpdir(), 'toa-lab-pk-firmware-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const disk = async (name: string, grubConf: string): Promise<string> => {
    const tree = join(dir, name);
    mkdirSync(join(tree, 'boot', 'grub'), { recursive: true });
    writeFileSync(join(tree, 'boot', 'vmlinuz-6.1.0-56-amd64'), 'old kernel image');
    writeFileSync(join(tree, 'boot', 'initramfs-6.1.0-56-amd64.img'), 'old initramfs');
    writeFileSync(join(tree, 'boot', 'vmlinuz-6.1.192-toa'), 'new kernel image');
    writeFileSync(join(tree, 'boot', 'grub', 'grub.conf'), grubConf);
    const image = join(dir, `${name}.img`);
    await makeExt4Image(tree, image);
    mkdirSync(join(dir, `${name}-out`));
    return image;
  };
  const installed = addGrubLegacyEntry(initialGrubConf('6.1.0-56-amd64'), {
    title: 'CentOS (6.1.192-toa)',
    kernel: '/boot/vmlinuz-6.1.192-toa',
    args: ['ro', 'root=/dev/vda', ...LAB_KERNEL_ARGS],
  }).content;

  it('after make install alone (default=1), the old kernel boots, with its initrd', async () => {
    const boot = await selectBootEntry(await disk('before', installed), join(dir, 'before-out'));
    expect(boot).toMatchObject({ loader: 'grub-legacy', kernelPath: '/boot/vmlinuz-6.1.0-56-amd64', initrdPath: '/boot/initramfs-6.1.0-56-amd64.img' });
    expect(readFileSync(boot.kernelFile, 'utf8')).toBe('old kernel image');
    expect(readFileSync(boot.initrdFile!, 'utf8')).toBe('old initramfs');
  });

  it("after the guide's edit (default=0, nohz=off), the -toa kernel boots with nohz=off and no initrd", async () => {
    const edited = bootKernelByDefaultGrubLegacy(installed, { release: '6.1.192-toa', addArgs: ['nohz=off'] }).content;
    const boot = await selectBootEntry(await disk('after', edited), join(dir, 'after-out'));
    expect(boot.kernelPath).toBe('/boot/vmlinuz-6.1.192-toa');
    expect(boot.initrdFile).toBeUndefined();
    expect(boot.commandLine.split(' ')).toEqual(['ro', 'root=/dev/vda', ...LAB_KERNEL_ARGS, 'nohz=off']);
    expect(readFileSync(boot.kernelFile, 'utf8')).toBe('new kernel image');
  });

  it('a default pointing at a kernel that is not on the disk fails the boot, loudly', async () => {
    const broken = installed.replace('vmlinuz-6.1.0-56-amd64 ro', 'vmlinuz-9.9.9 ro');
    await expect(selectBootEntry(await disk('broken', broken), join(dir, 'broken-out'))).rejects.toThrow(/vmlinuz-9\.9\.9 is not on/);
  });
});
