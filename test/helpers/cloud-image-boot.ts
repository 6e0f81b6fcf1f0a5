import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CloudFirmware, CloudImage } from '../../harness/images/cloud/build-cloud-image.ts';
import { writeNoCloudSeed } from '../../harness/images/cloud/nocloud-seed.ts';
import { createOverlay } from '../../harness/images/debian/disk-image.ts';
import type { RunSession } from '../../harness/lifecycle/run-session.ts';
import { CommandLog } from '../../harness/remote/command-log.ts';
import { HostKeyPin } from '../../harness/remote/host-key-pin.ts';
import { SshGuestShell } from '../../harness/remote/ssh-guest-shell.ts';
import { generateSshKeyPair, writeSshKeyPair } from '../../harness/remote/ssh-key-pair.ts';
import { ConsoleLog } from '../../harness/vm/console-log.ts';
import { findFreeLocalPort } from '../../harness/vm/free-port.ts';
import { QemuProcess } from '../../harness/vm/qemu/qemu-process.ts';

/**
 * Boots a cloud-format disk the way a vendor's image is booted, for the tests
 * that prove it (the lab's generic provider is built elsewhere): firmware
 * (SeaBIOS, or OVMF from two pflash drives) reads the disk's own boot loader,
 * the disk is a per-run overlay of the cached image, and the only way in is a
 * NoCloud seed on a CD-ROM that creates a user with a key made for this boot.
 * - the management NIC is user-mode with restrict=on, reachable only through a
 *   127.0.0.1 port forward to the guest's sshd;
 * - QEMU writes a pid file in the session's folder and is stopped with the session.
 */
export const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
export const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd';
export const CLOUD_USER = 'labuser';

export interface BootedCloudImage {
  dir: string;
  qemu: QemuProcess;
  console: ConsoleLog;
  sshPort: number;
  shell: SshGuestShell;
  /** QEMU start to a working SSH login as the seed's user. */
  bootToLoginMs: number;
}

/** What a boot needs of an image: its disk (never written) and how it boots. */
export interface BootableDisk {
  name: string;
  disk: string;
  firmware: CloudFirmware;
}

/** A cloud image, entered through a NoCloud seed that creates CLOUD_USER with a key made for this boot. */
export function bootCloudImage(
  session: RunSession,
  image: CloudImage,
  options: { timeoutMs: number; log?: (line: string) => void },
): Promise<BootedCloudImage> {
  return bootDisk(session, { name: image.name, disk: image.disk, firmware: image.definition.firmware }, options);
}

/**
 * Any disk that boots by itself. With `credentials` (e.g. a Vagrant box's user and key) no
 * seed is attached: the image must already let that user in.
 */
export async function bootDisk(
  session: RunSession,
  image: BootableDisk,
  options: { timeoutMs: number; log?: (line: string) => void; credentials?: { user: string; privateKeyPem: string } },
): Promise<BootedCloudImage> {
  const log = options.log ?? (() => {});
  const dir = await session.subdir(image.name);
  const overlay = join(dir, 'disk.qcow2');
  await createOverlay(image.disk, overlay);

  let login = options.credentials;
  const seedDrive: string[] = [];
  if (!login) {
    const key = generateSshKeyPair('toa-lab cloud-image test');
    await writeSshKeyPair(dir, key);
    const seed = await writeNoCloudSeed({
      dir,
      instanceId: `iid-${image.name}-${Date.now()}`,
      hostname: image.name,
      user: { name: CLOUD_USER, publicKey: key.publicLine },
    });
    seedDrive.push('-drive', `file=${seed},format=raw,media=cdrom,if=ide,readonly=on`);
    login = { user: CLOUD_USER, privateKeyPem: key.privatePem };
  }

  const firmware: string[] = [];
  if (image.firmware === 'uefi') {
    // OVMF keeps its NVRAM in the VARS file: each run writes its own copy.
    const vars = join(dir, 'OVMF_VARS_4M.fd');
    await copyFile(OVMF_VARS, vars);
    firmware.push(
      '-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${OVMF_CODE}`,
      '-drive', `if=pflash,format=raw,unit=1,file=${vars}`,
    );
  }
  const sshPort = await findFreeLocalPort();
  const consoleLog = join(dir, 'console.log');
  const args = [
    '-machine', image.firmware === 'uefi' ? 'q35' : 'pc',
    // One host thread for the guest's vCPUs (QEMU 7.2's multi-threaded TCG can livelock, LAB-NOTES).
    '-accel', 'tcg,tb-size=256,thread=single',
    '-m', '1024',
    '-smp', '2',
    '-nodefaults',
    '-display', 'none',
    '-serial', `file:${consoleLog}`,
    '-pidfile', join(dir, 'qemu.pid'),
    ...firmware,
    '-drive', `file=${overlay},format=qcow2,if=virtio`,
    ...seedDrive,
    '-netdev', `user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:${sshPort}-:22`,
    '-device', 'virtio-net-pci,netdev=n0,mac=52:54:00:00:00:10',
  ];
  const started = Date.now();
  const qemu = QemuProcess.start(args, join(dir, 'qemu.stderr'));
  session.defer(() => qemu.stop().then(() => undefined));
  log(`${image.name}: QEMU ${qemu.pid} (${image.firmware}), ssh on 127.0.0.1:${sshPort}, console ${consoleLog}`);

  const shell = await SshGuestShell.connect(
    {
      host: '127.0.0.1',
      port: sshPort,
      username: login.user,
      privateKey: login.privateKeyPem,
      hostKeys: new HostKeyPin(`[127.0.0.1]:${sshPort}`, join(dir, 'known_hosts')),
      log: new CommandLog(join(dir, 'commands.jsonl')),
    },
    {
      timeoutMs: options.timeoutMs,
      givenUp: () => {
        const exit = qemu.hasExited;
        return exit ? `QEMU exited (code ${exit.code}, signal ${exit.signal}); see ${join(dir, 'qemu.stderr')}` : null;
      },
      onProgress: log,
    },
  ).catch(async (error: unknown) => {
    const console = new ConsoleLog(consoleLog);
    await console.refresh();
    throw new Error(`${String(error)}\nlast console lines:\n${console.tail(40)}`);
  });
  session.defer(() => shell.close());
  const bootToLoginMs = Date.now() - started;
  log(`${image.name}: logged in as ${login.user} ${(bootToLoginMs / 1000).toFixed(0)} s after QEMU started`);
  return { dir, qemu, console: new ConsoleLog(consoleLog), sshPort, shell, bootToLoginMs };
}
