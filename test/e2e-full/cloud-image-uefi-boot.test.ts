import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCloudImage, type CloudImage } from '../../harness/images/cloud/build-cloud-image.ts';
import { RunSession } from '../../harness/lifecycle/run-session.ts';
import { bootCloudImage, CLOUD_USER, type BootedCloudImage } from '../helpers/cloud-image-boot.ts';

/**
 * The UEFI twin of test/e2e/cloud-image-boot.test.ts: a Debian 13 disk in the
 * genericcloud form with an EFI system partition (FAT, made with mtools) whose
 * GRUB finds the root by UUID, booted by OVMF (`-machine q35`, OVMF_CODE_4M.fd
 * read-only + a per-run copy of OVMF_VARS_4M.fd), networked by netplan +
 * systemd-networkd as cloud-init renders it, entered only through the NoCloud seed.
 */
const BOOT_TIMEOUT_MS = 420_000;

describe('a cloud-format Debian 13 disk (UEFI) boots through OVMF and takes a NoCloud seed', () => {
  let session: RunSession;
  let image: CloudImage;
  let guest: BootedCloudImage;

  beforeAll(async () => {
    session = await RunSession.open();
    const started = Date.now();
    image = await ensureCloudImage('debian-13-genericcloud-uefi', (line) => console.log(line));
    console.log(`image ${image.built ? 'built' : 'from cache'} in ${((Date.now() - started) / 1000).toFixed(0)} s: ${image.disk}`);
    guest = await bootCloudImage(session, image, { timeoutMs: BOOT_TIMEOUT_MS, log: (line) => console.log(line) });
  }, 1_800_000);

  afterAll(async () => {
    await session?.close();
  });

  it("the seed's user logged in with the run's key and has passwordless sudo", async () => {
    expect((await guest.shell.check('id -un')).stdout.trim()).toBe(CLOUD_USER);
    expect((await guest.shell.check('sudo -n id -u')).stdout.trim()).toBe('0');
  });

  it('cloud-init finished without errors', async () => {
    const status = await guest.shell.run('cloud-init status --wait --long', { timeoutMs: 300_000 });
    expect(status.stdout, status.stderr).toMatch(/^status: done$/m);
    expect(status.exitCode).toBe(0);
  });

  it('is Debian 13 with its cloud kernel, booted through UEFI from its own ESP, and has no compiler', async () => {
    expect((await guest.shell.check('. /etc/os-release && echo "$ID $VERSION_ID"')).stdout.trim()).toBe('debian 13');
    expect((await guest.shell.check('uname -r')).stdout.trim()).toBe(image.kernelRelease);
    expect((await guest.shell.check('test -d /sys/firmware/efi && echo uefi')).stdout.trim()).toBe('uefi');
    expect((await guest.shell.run('command -v gcc')).exitCode).not.toBe(0);
    expect((await guest.shell.check('cat /proc/cmdline')).stdout).toMatch(/root=UUID=[0-9a-f-]{36} ro .*console=ttyS0/);
  });
});
