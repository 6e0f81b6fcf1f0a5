import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCloudImage, type CloudImage } from '../../harness/images/cloud/build-cloud-image.ts';
import { RunSession } from '../../harness/lifecycle/run-session.ts';
import { bootCloudImage, CLOUD_USER, type BootedCloudImage } from '../helpers/cloud-image-boot.ts';

/**
 * Disks in Debian's genericcloud form (GPT, kernel and initrd inside, cloud-init,
 * no toa-lab parts) boot through their own boot loader under TCG, and the only
 * way in is the NoCloud seed: a user it created logs in with this run's key and
 * has passwordless sudo. The images carry no toolchain: the lab's procedure must
 * install it from the OS.
 * - Debian 12, BIOS: GRUB in the BIOS boot partition, booted by SeaBIOS;
 * - Debian 13, UEFI: an EFI system partition (FAT, made with mtools) whose GRUB
 *   finds the root by UUID, booted by OVMF (`-machine q35`, OVMF_CODE_4M.fd
 *   read-only + a per-run copy of OVMF_VARS_4M.fd), networked by netplan +
 *   systemd-networkd as cloud-init renders it.
 * Building an image (first run, or after the archive's kernel changed) takes a
 * few minutes; first boot with cloud-init ~2 minutes under TCG (LAB-NOTES).
 */
const CASES = [
  { image: 'debian-12-genericcloud', version: '12', firmware: 'bios', bootTimeoutMs: 300_000 },
  { image: 'debian-13-genericcloud-uefi', version: '13', firmware: 'uefi', bootTimeoutMs: 420_000 },
] as const;

describe.each(CASES)('a cloud-format Debian $version disk ($firmware) boots and takes a NoCloud seed', ({ image: name, version, firmware, bootTimeoutMs }) => {
  let session: RunSession;
  let image: CloudImage;
  let guest: BootedCloudImage;

  beforeAll(async () => {
    session = await RunSession.open();
    const started = Date.now();
    image = await ensureCloudImage(name, (line) => console.log(line));
    console.log(`image ${image.built ? 'built' : 'from cache'} in ${((Date.now() - started) / 1000).toFixed(0)} s: ${image.disk}`);
    guest = await bootCloudImage(session, image, { timeoutMs: bootTimeoutMs, log: (line) => console.log(line) });
  }, 1_800_000);

  afterAll(async () => {
    await session?.close();
  });

  it("the seed's user logged in with the run's key and has passwordless sudo", async () => {
    expect((await guest.shell.check('id -un')).stdout.trim()).toBe(CLOUD_USER);
    expect((await guest.shell.check('sudo -n id -u')).stdout.trim()).toBe('0');
  });

  it('cloud-init finished without errors', async () => {
    await guest.shell.run('cloud-init status --wait', { timeoutMs: 300_000 }); // its dots and the status share a line
    const status = await guest.shell.run('cloud-init status --long');
    expect(status.stdout, status.stderr).toMatch(/^status: done$/m);
    expect(status.exitCode).toBe(0);
  });

  it(`is Debian ${version} with its cloud kernel, booted from its own disk by its own GRUB, and has no compiler`, async () => {
    expect((await guest.shell.check('. /etc/os-release && echo "$ID $VERSION_ID"')).stdout.trim()).toBe(`debian ${version}`);
    expect((await guest.shell.check('uname -r')).stdout.trim()).toBe(image.kernelRelease);
    expect((await guest.shell.run('test -d /sys/firmware/efi')).exitCode === 0 ? 'uefi' : 'bios').toBe(firmware);
    expect((await guest.shell.run('command -v gcc')).exitCode).not.toBe(0);
    expect((await guest.shell.run('command -v make')).exitCode).not.toBe(0);
    // The root was found by UUID through the disk's own grub.cfg, not a command line the harness gave.
    expect((await guest.shell.check('cat /proc/cmdline')).stdout).toMatch(/root=UUID=[0-9a-f-]{36} ro .*console=ttyS0/);
    // sshd's host keys were made in this instance (cloud-init's ssh module), none came with the image.
    expect((await guest.shell.check('ls /etc/ssh/ssh_host_ed25519_key.pub')).exitCode).toBe(0);
  });
});
