import { existsSync, readFileSync } from 'node:fs';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createOverlay } from '../images/debian/disk-image.ts';
import { inspectDiskImage, type DiskFormat } from '../images/disk-format.ts';
import type { RunSession } from '../lifecycle/run-session.ts';
import { chooseAccelerator, type AcceleratorChoice } from './accelerator.ts';
import { ConsoleLog } from './console-log.ts';
import { findFreeLocalPort } from './free-port.ts';
import { FULL_OS_KERNEL_COMMAND_LINE } from './full-os-command-line.ts';
import { buildQemuArgs, type Accelerator, type GuestForward, type QemuMachineSpec } from './qemu/qemu-args.ts';
import { tcgThreading } from './qemu/tcg-threading.ts';
import { QemuProcess } from './qemu/qemu-process.ts';

/**
 * A full-OS guest under QEMU (the QEMU provider), its root disk a per-run
 * qcow2 overlay of the image (the image itself is never written), booted
 * either way a Target can ask for (vmtest's one `Target {image, kernel?}`):
 * - the lab's own images: QEMU loads their kernel and initrd directly, and the
 *   run's SSH key reaches the guest through fw_cfg (the image's key unit);
 * - any other disk (a vendor's qcow2, raw, vmdk, vhdx): the firmware (SeaBIOS
 *   or OVMF) runs the disk's own boot loader, and a cloud-init seed on a CD-ROM
 *   or the user's own credentials do the provisioning.
 * Two NICs:
 * - the first: user-mode, restrict=on, only a 127.0.0.1 port forward to sshd
 *   (and guest forwards the caller names, e.g. to the package proxy);
 * - the second: the lab wire (QEMU listens on a unix socket, the harness connects).
 * QEMU runs without -no-reboot: a guest reboot resets the machine in place, the
 * overlay (the guest's disk) persists, the lab wire stays up. Everything lives
 * in a folder of the run session and is stopped with it.
 */
export type FullOsImageFiles = LabImageFiles | DiskImageFiles;

/** The lab's own image: a qcow2 root file system and the kernel + initrd pulled out of it. */
export interface LabImageFiles {
  kind: 'lab-image';
  name: string;
  /** The cached base qcow2 (never written to). */
  disk: string;
  kernel: string;
  initrd: string;
}

/** A whole disk with its own boot loader, booted through firmware. */
export interface DiskImageFiles {
  kind: 'disk-image';
  name: string;
  /** The user's file (never written to). */
  disk: string;
  /** Default: what `qemu-img info` says the file is. */
  format?: DiskFormat;
  firmware: 'bios' | 'uefi';
  /** A read-only CD-ROM for the guest, e.g. a NoCloud seed. */
  seed?: string;
}

/** Where Debian's `ovmf` package puts the 4 MiB UEFI firmware (code, and the template of its variable store). */
export const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
export const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd';

export interface FullOsVmOptions {
  image: FullOsImageFiles;
  session: RunSession;
  /** Lab images: the `ssh-ed25519 AAAA...` line the guest installs as root's authorized_keys (fw_cfg). */
  authorizedKey?: string;
  /** Host commands the guest reaches on its management NIC (e.g. the package proxy). */
  guestForwards?: readonly GuestForward[];
  memoryMiB?: number;
  cpus?: number;
  /** Guest's MACs; both are explicit since two virtio NICs otherwise share one default (LAB-NOTES). */
  managementMac?: string;
  labWireMac?: string;
  log?: (line: string) => void;
}

/**
 * What to boot at the next power-on of a power cycle, as firmware + boot loader chose it
 * from the guest's disk (harness/patched-kernel/firmware.ts): QEMU's direct kernel boot.
 */
export interface DirectKernelBoot {
  kernel: string;
  /** None: the kernel boots without one (its root= must then be something it resolves itself). */
  initrd?: string;
  commandLine: string;
}

/** Reads the guest's disk (the qcow2 overlay, QEMU stopped) and says what to boot next. */
export type BootFirmware = (disk: string) => Promise<DirectKernelBoot>;

export const GUEST_LAB_ADDRESS = '192.0.2.10';
const KVM_PROBE_TIMEOUT_MS = 20_000;
/** The kernel's last words before a reset (`reboot: Restarting system`), printed at every level. */
const RESTARTING = /reboot: Restarting system/;

export class FullOsVm {
  /** Use FullOsVm.start(). */
  constructor(
    readonly dir: string,
    readonly qemu: QemuProcess,
    readonly console: ConsoleLog,
    readonly sshPort: number,
    readonly labWireSocket: string,
    readonly labWireMac: string,
    readonly accelerator: AcceleratorChoice,
    readonly startedAt: number,
    /** How it was started and on which overlay: a power cycle starts its successor the same way. */
    private readonly launchedWith?: { options: FullOsVmOptions; disk: string },
  ) {}

  /** The guest's disk: the per-run qcow2 overlay (a power cycle keeps it). */
  get diskPath(): string {
    return this.launchedWith?.disk ?? join(this.dir, 'disk.qcow2');
  }

  get guestAddress(): string {
    return GUEST_LAB_ADDRESS;
  }

  /**
   * Null while the guest may still come up; otherwise why it will not, in words (for
   * readiness waits): QEMU exited, or the firmware found nothing to boot — SeaBIOS
   * then retries forever, so without this a disk with no boot loader would only end
   * at the boot timeout.
   */
  exitReason(): string | null {
    const exit = this.qemu.hasExited;
    if (exit) return `QEMU exited (code ${exit.code}, signal ${exit.signal}); see ${join(this.dir, 'qemu.stderr')}`;
    const firmware = this.firmwareVerdict();
    return firmware ? `the firmware found nothing to boot: "${firmware}" (${join(this.dir, 'firmware.log')})` : null;
  }

  private firmwareVerdict(): string | null {
    const log = join(this.dir, 'firmware.log');
    if (!existsSync(log)) return null;
    // SeaBIOS: "Boot failed: not a bootable disk" per device, then "No bootable device." once all failed.
    return /No bootable device\.?|Boot failed: [^\n]*/.exec(readFileSync(log, 'latin1'))?.[0] ?? null;
  }

  /** Starts QEMU and returns at once: readiness is the caller's (an SSH login is the only real proof). */
  static async start(options: FullOsVmOptions): Promise<FullOsVm> {
    const log = options.log ?? (() => {});
    // A file that is not a disk image (or a broken one) is refused with qemu-img's words, before anything boots.
    await inspectDiskImage(options.image.disk, options.image.kind === 'disk-image' ? options.image.format : 'qcow2');
    const files = options.image.kind === 'lab-image' ? [options.image.kernel, options.image.initrd] : options.image.firmware === 'uefi' ? [OVMF_CODE, OVMF_VARS] : [];
    for (const file of files) {
      if (!existsSync(file)) throw new Error(`image ${options.image.name}: ${file} is missing${file.startsWith('/usr/share/OVMF') ? " (Debian's ovmf package)" : ''}`);
    }
    const accelerator = await chooseAccelerator(() => probeKvm(options));
    log(`accelerator: ${accelerator.accelerator} (${accelerator.reason})`);
    for (let attempt = 1; ; attempt++) {
      try {
        return await launch(options, accelerator.accelerator, accelerator);
      } catch (error) {
        // The free port was taken between the check and QEMU's bind: pick another.
        if (attempt >= 3 || !/host forwarding rule/i.test(String(error))) throw error;
      }
    }
  }

  /**
   * Reboots the guest the way an operator would (`trigger` runs e.g.
   * `systemctl reboot` over SSH) and resolves once the kernel has reset the
   * machine; the caller then waits for SSH again.
   */
  async reboot(trigger: () => Promise<unknown>, timeoutMs = 120_000): Promise<void> {
    const from = (await this.console.refresh()).length;
    await trigger();
    await this.waitForConsole(RESTARTING, from, timeoutMs, 'the guest to reset after a reboot request');
  }

  /**
   * A reboot through firmware instead of a reset in place (the patched-kernel
   * procedure: the boot loader's configuration decides which kernel comes up):
   * - `trigger` asks the guest to reboot (`systemctl reboot`); once its kernel has
   *   reset the machine, QEMU is stopped. QEMU resets in place (no -no-reboot), so
   *   it has begun the old kernel again by then — for well under a second, long
   *   before that kernel could touch the disk (it is still in early boot);
   * - `firmware` reads the overlay, as the guest left it, and says what to boot;
   * - a new QEMU starts on the same overlay with that kernel, initrd and command
   *   line, the same SSH port (so the pinned host key must match: same disk) and key.
   * Returns the new FullOsVm; this one is stopped. The caller waits for SSH.
   */
  async powerCycle(trigger: () => Promise<unknown>, firmware: BootFirmware, timeoutMs = 120_000): Promise<FullOsVm> {
    if (!this.launchedWith) throw new Error('powerCycle: this FullOsVm was not started by FullOsVm.start()');
    await this.reboot(trigger, timeoutMs);
    await this.stop();
    const boot = await firmware(this.diskPath);
    (this.launchedWith.options.log ?? (() => {}))(`power cycle: ${boot.kernel} ${boot.initrd ? `+ ${boot.initrd} ` : ''}${boot.commandLine}`);
    return launch(this.launchedWith.options, this.accelerator.accelerator, this.accelerator, { disk: this.diskPath, sshPort: this.sshPort, boot });
  }

  /** Waits for `pattern` on the serial console after offset `from`. */
  async waitForConsole(pattern: RegExp, from: number, timeoutMs: number, what: string): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = (await this.console.refresh()).slice(from).match(pattern);
      if (match) return match;
      const gone = this.exitReason();
      if (gone) throw new Error(`waiting for ${what}: ${gone}\n${this.console.tail()}`);
      if (Date.now() >= deadline) throw new Error(`waiting for ${what}: nothing within ${timeoutMs / 1000} s\n${this.console.tail()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  async stop(): Promise<void> {
    await this.qemu.stop();
    await this.console.refresh();
    await this.console.close();
  }
}

/** A power cycle's next start: the existing overlay, the same SSH port, the kernel firmware chose. */
interface NextBoot {
  disk: string;
  sshPort: number;
  boot: DirectKernelBoot;
}

async function launch(options: FullOsVmOptions, accelerator: Accelerator, choice: AcceleratorChoice, next?: NextBoot): Promise<FullOsVm> {
  const dir = await options.session.subdir(
    accelerator === 'kvm' && choice.reason === 'probe' ? 'kvm-probe' : next ? `${options.image.name}-power-cycle` : options.image.name,
  );
  const overlay = next?.disk ?? join(dir, 'disk.qcow2');
  if (!next) await createOverlay(options.image.disk, overlay, await baseFormat(options.image));
  const consoleLog = join(dir, 'console.log');
  const labWireSocket = join(dir, 'wire.sock');
  const labWireMac = options.labWireMac ?? '52:54:00:00:02:0a';
  const sshPort = next?.sshPort ?? (await findFreeLocalPort());
  const fwCfgFiles: Array<{ name: string; file: string }> = [];
  if (options.authorizedKey) {
    const authorizedKeys = join(dir, 'authorized_keys');
    await writeFile(authorizedKeys, `${options.authorizedKey.trim()}\n`);
    fwCfgFiles.push({ name: 'opt/toa-lab/authorized_keys', file: authorizedKeys });
  }
  const args = buildQemuArgs({
    accelerator,
    tcgThreading: tcgThreading(),
    memoryMiB: options.memoryMiB ?? 1024,
    cpus: options.cpus ?? 2,
    boot: await bootSpec(options.image, dir, next),
    consoleLog,
    disk: { path: overlay, format: 'qcow2' },
    ...(options.image.kind === 'disk-image' && options.image.seed && { cdrom: options.image.seed }),
    ...(options.image.kind === 'disk-image' && { firmwareLog: join(dir, 'firmware.log') }),
    managementNic: {
      mac: options.managementMac ?? '52:54:00:00:00:10',
      sshHostPort: sshPort,
      ...(options.guestForwards && { guestForwards: options.guestForwards }),
    },
    labWire: { socket: labWireSocket, mac: labWireMac },
    fwCfgFiles,
    allowReboot: true,
    pidFile: join(dir, 'qemu.pid'),
  });
  await writeFile(join(dir, 'qemu.args'), args.join('\n'));
  const qemu = QemuProcess.start(args, join(dir, 'qemu.stderr'));
  options.session.defer(() => qemu.stop().then(() => undefined));
  const vm = new FullOsVm(dir, qemu, new ConsoleLog(consoleLog), sshPort, labWireSocket, labWireMac, choice, Date.now(), { options, disk: overlay });
  // QEMU refuses bad arguments, an unreadable disk or a taken port within moments: say so now, not at the SSH deadline.
  await new Promise((r) => setTimeout(r, 300));
  const gone = vm.exitReason();
  if (gone) {
    const stderr = (await readFile(join(dir, 'qemu.stderr'), 'utf8').catch(() => '')).trim();
    throw new Error(`${options.image.name}: ${gone}${stderr ? `: ${stderr.split('\n').slice(-3).join(' | ')}` : ''}`);
  }
  return vm;
}

/**
 * What this start boots: a power cycle boots what firmware chose (its kernel, its initrd
 * if the entry has one, its command line); a lab image its own kernel; a disk image
 * its own boot loader (UEFI: the firmware code read-only, a per-machine copy of the variables).
 */
async function bootSpec(image: FullOsImageFiles, dir: string, next?: NextBoot): Promise<QemuMachineSpec['boot']> {
  if (next) return { kind: 'kernel', kernel: next.boot.kernel, ...(next.boot.initrd && { initrd: next.boot.initrd }), kernelCommandLine: next.boot.commandLine };
  if (image.kind === 'lab-image') return { kind: 'kernel', kernel: image.kernel, initrd: image.initrd, kernelCommandLine: FULL_OS_KERNEL_COMMAND_LINE };
  if (image.firmware === 'bios') return { kind: 'firmware', firmware: 'bios' };
  const vars = join(dir, 'OVMF_VARS.fd');
  await copyFile(OVMF_VARS, vars);
  return { kind: 'firmware', firmware: 'uefi', code: OVMF_CODE, vars };
}

async function baseFormat(image: FullOsImageFiles): Promise<DiskFormat> {
  if (image.kind === 'lab-image') return 'qcow2';
  return image.format ?? (await inspectDiskImage(image.disk)).format;
}

/** KVM works here only if a guest actually gets through early boot with it (LAB-NOTES: it hangs on these hosts). */
async function probeKvm(options: FullOsVmOptions): Promise<{ ok: true } | { ok: false; why: string }> {
  let vm: FullOsVm | undefined;
  try {
    vm = await launch(options, 'kvm', { accelerator: 'kvm', reason: 'probe' });
    await vm.waitForConsole(/Welcome to|systemd\[1\]/, 0, KVM_PROBE_TIMEOUT_MS, 'systemd under KVM');
    return { ok: true };
  } catch (error) {
    return { ok: false, why: (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '' };
  } finally {
    await vm?.stop();
  }
}
