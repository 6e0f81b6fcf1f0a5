import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BOX_MEMBERS, boxMetadata, boxVagrantfile, packBox } from '../../../harness/images/cloud/build-vagrant-box.ts';

describe('the standard Vagrant box (vagrant-libvirt)', () => {
  it('says libvirt, qcow2 and the virtual size in whole GiB', () => {
    expect(boxMetadata(3 * 2 ** 30)).toEqual({ provider: 'libvirt', format: 'qcow2', virtual_size: 3 });
    expect(boxMetadata(3 * 2 ** 30 + 1).virtual_size).toBe(4);
  });

  it('has a Vagrantfile with only the box defaults: a Debian guest, no synced folder, no kernel outside the disk', () => {
    const vagrantfile = boxVagrantfile();
    expect(vagrantfile).toMatch(/^Vagrant\.configure\("2"\) do \|config\|$/m);
    expect(vagrantfile).toContain('config.vm.guest = :debian');
    expect(vagrantfile).toContain('config.vm.synced_folder ".", "/vagrant", disabled: true');
    expect(vagrantfile).not.toMatch(/kernel|initrd|cmd_line/);
  });

  it('is a tar of metadata.json, Vagrantfile and box.img (the disk, renamed, not copied)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'box-'));
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', join(dir, 'base.qcow2'), '3G']);
    const box = await packBox(dir, 'test-box');
    expect(box).toBe(join(dir, 'test-box.box'));
    expect(execFileSync('tar', ['-tf', box], { encoding: 'utf8' }).trim().split('\n')).toEqual([...BOX_MEMBERS]);
    const metadata = JSON.parse(execFileSync('tar', ['-xOf', box, 'metadata.json'], { encoding: 'utf8' }));
    expect(metadata).toEqual({ provider: 'libvirt', format: 'qcow2', virtual_size: 3 });
    const image = execFileSync('sh', ['-c', `tar -xOf '${box}' box.img | head -c 4`]);
    expect(image.toString('latin1')).toBe('QFI\xfb');
    expect(execFileSync('ls', [dir], { encoding: 'utf8' })).not.toContain('base.qcow2');
  });
});
