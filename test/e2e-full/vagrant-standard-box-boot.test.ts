import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureStandardVagrantBox, type StandardVagrantBox } from '../../harness/images/cloud/build-vagrant-box.ts';
import { runHostCommand } from '../../harness/exec/run-host-command.ts';
import { RunSession } from '../../harness/lifecycle/run-session.ts';
import { bootDisk, type BootedCloudImage } from '../helpers/cloud-image-boot.ts';

/**
 * The standard vagrant-libvirt box boots the way vagrant-libvirt boots a box
 * (its box.img as the domain's virtio disk, BIOS firmware, no kernel outside
 * the disk) and lets Vagrant's own user in: `vagrant` with Vagrant's insecure
 * key and passwordless sudo, networking by cloud-init's fallback (no seed, no
 * datasource). Without Vagrant itself: that path is the Vagrant provider's test.
 */
const BOOT_TIMEOUT_MS = 420_000;

describe('the standard Vagrant box boots from its own box.img and lets the vagrant user in', () => {
  let session: RunSession;
  let box: StandardVagrantBox;
  let guest: BootedCloudImage;

  beforeAll(async () => {
    session = await RunSession.open();
    box = await ensureStandardVagrantBox((line) => console.log(line));
    const dir = await session.subdir('box');
    await runHostCommand('tar', ['-xf', box.box, '-C', dir, 'box.img'], { timeoutMs: 300_000 });
    guest = await bootDisk(
      session,
      { name: box.name, disk: join(dir, 'box.img'), firmware: 'bios' },
      {
        timeoutMs: BOOT_TIMEOUT_MS,
        log: (line) => console.log(line),
        credentials: { user: 'vagrant', privateKeyPem: await readFile(box.insecurePrivateKey, 'utf8') },
      },
    );
  }, 1_800_000);

  afterAll(async () => {
    await session?.close();
  });

  it('vagrant has passwordless sudo, and cloud-init finished with no datasource', async () => {
    expect((await guest.shell.check('id -un')).stdout.trim()).toBe('vagrant');
    expect((await guest.shell.check('sudo -n id -u')).stdout.trim()).toBe('0');
    const status = await guest.shell.run('cloud-init status --wait', { timeoutMs: 300_000 });
    expect(status.stdout).toMatch(/^status: done$/m);
  });

  it('is the stock Debian 12 disk: its own kernel, no compiler, no toa-lab parts', async () => {
    expect((await guest.shell.check('uname -r')).stdout.trim()).toBe(box.kernelRelease);
    expect((await guest.shell.run('command -v gcc')).exitCode).not.toBe(0);
    expect((await guest.shell.run('ls /etc/systemd/system | grep -i toa')).stdout).toBe('');
  });
});
