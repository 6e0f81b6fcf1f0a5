import { existsSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { succeeded } from '../../exec/command-result.ts';
import type { DebianImage } from '../../images/debian/build-debian-image.ts';
import type { RunSession } from '../../lifecycle/run-session.ts';
import { ConsoleLog } from '../console-log.ts';
import { findFreeLocalPort } from '../free-port.ts';
import { GUEST_LAB_ADDRESS } from '../full-os-vm.ts';
import { currentOwner, domainExists, DOMAIN_PREFIX, encodeOwner, reapOrphanedDomains, removeDomain } from './domain-reaper.ts';
import { addBoxFile, ensureLibvirtBox, type LibvirtBox } from './libvirt-box.ts';
import { assertLoopbackOnly, parseVagrantSshConfig, type VagrantSshConfig } from './ssh-config.ts';
import { runVagrant, runVirsh } from './vagrant-cli.ts';
import { renderVagrantfile } from './vagrantfile.ts';
import type { GuestForward } from '../qemu/qemu-args.ts';

/**
 * A full-OS guest under Vagrant + vagrant-libvirt (the Vagrant provider):
 * our cached Debian image packaged as a libvirt box, a Vagrantfile rendered
 * from vagrant/ into a folder of the run session, `vagrant up`, `vagrant
 * ssh-config` (which must say 127.0.0.1 and our port), and `vagrant destroy`
 * when the session closes. The guest's NICs, MACs, kernel command line and
 * fw_cfg key are the QEMU provider's, so harness/remote and everything above
 * it work unchanged.
 *
 * Cleanup, in every way a run can end:
 * - close / failure / SIGINT: the session's deferred destroy (`vagrant destroy -f`,
 *   retried: it fails while an `up` is still finishing; then virsh if needed);
 * - SIGKILL: the run folder holds `qemu.pid` (the session reaper kills that QEMU,
 *   whose command line names the folder) and `libvirt-domain`; the domain's own
 *   description names its owner, and the next VagrantVm.start reaps it.
 */
export interface VagrantVmOptions {
  source: VagrantSource;
  session: RunSession;
  memoryMiB?: number;
  cpus?: number;
  managementMac?: string;
  labWireMac?: string;
  /** `vagrant up`'s own wait for SSH (TCG: 80–120 s on a quiet host). */
  bootTimeoutSeconds?: number;
  log?: (line: string) => void;
}

/**
 * What `vagrant up` boots:
 * - one of the lab's images, packaged here as a box (direct kernel boot); the run's key pair:
 *   the public line goes in through fw_cfg, vagrant logs in as root with the private file;
 * - a box a user has, as a .box file in the standard form (its own boot loader, a user with
 *   sudo — `vagrant` — and that user's key, by default Vagrant's insecure key).
 */
export type VagrantSource =
  | { kind: 'lab-image'; image: Pick<DebianImage, 'name' | 'dir' | 'disk' | 'kernel' | 'initrd'>; authorizedKey: string; privateKeyFile: string }
  | { kind: 'box-file'; name: string; file: string; user: string; privateKeyFile: string; guestForwards: readonly GuestForward[] };

export interface VagrantTimings {
  boxMs: number;
  upMs: number;
  destroyMs?: number;
}

const DESTROY_ATTEMPTS = 6;
const DESTROY_RETRY_MS = 5_000;

export class VagrantVm {
  private destroyed: Promise<void> | undefined;

  private constructor(
    readonly dir: string,
    readonly domain: string,
    readonly box: LibvirtBox,
    readonly sshPort: number,
    readonly sshConfig: VagrantSshConfig,
    readonly labWireSocket: string,
    readonly labWireMac: string,
    readonly console: ConsoleLog,
    readonly timings: VagrantTimings,
    private readonly log: (line: string) => void,
  ) {}

  get guestAddress(): string {
    return GUEST_LAB_ADDRESS;
  }

  /** Null while the domain's QEMU runs; otherwise why it is gone (for readiness waits). */
  exitReason(): string | null {
    const pid = this.qemuPid();
    return pid !== null && existsSync(`/proc/${pid}`) ? null : `libvirt domain ${this.domain} is not running; see ${this.console.path}`;
  }

  /** Boots the guest and returns once `vagrant up` says it is ready and ssh-config is checked. */
  static async start(options: VagrantVmOptions): Promise<VagrantVm> {
    const log = options.log ?? (() => {});
    for (const reaped of await reapOrphanedDomains(log)) log(`reaped ${reaped.name}`);

    const source = options.source;
    const name = source.kind === 'lab-image' ? source.image.name : source.name;
    const boxStarted = Date.now();
    const box = source.kind === 'lab-image' ? await ensureLibvirtBox(source.image, log) : await addBoxFile(source.file, log);
    const boxMs = Date.now() - boxStarted;

    const dir = await options.session.subdir('vagrant');
    const machine = `${basename(options.session.dir)}-${basename(dir)}`;
    const domain = `${DOMAIN_PREFIX}${machine}`;
    // Recorded before anything exists, so a run killed mid-`up` still names its domain.
    await writeFile(join(dir, 'libvirt-domain'), `${domain}\n`);
    const fwCfgFiles: Array<{ name: string; file: string }> = [];
    if (source.kind === 'lab-image') {
      const authorizedKeys = join(dir, 'authorized_keys');
      await writeFile(authorizedKeys, `${source.authorizedKey.trim()}\n`);
      fwCfgFiles.push({ name: 'opt/toa-lab/authorized_keys', file: authorizedKeys });
    }
    const consoleLog = join(dir, 'console.log');
    const labWireSocket = join(dir, 'wire.sock');
    const labWireMac = options.labWireMac ?? '52:54:00:00:02:0a';
    const sshPort = await findFreeLocalPort();
    const vagrantfile = renderVagrantfile({
      machine,
      domainPrefix: DOMAIN_PREFIX,
      box: box.name,
      driver: 'qemu', // TCG: KVM hangs on the lab machines (LAB-NOTES)
      memoryMiB: options.memoryMiB ?? 1024,
      cpus: options.cpus ?? 2,
      sshPort,
      privateKey: source.privateKeyFile,
      sshUser: source.kind === 'lab-image' ? 'root' : source.user,
      consoleLog,
      description: encodeOwner(currentOwner(options.session.dir)),
      bootTimeoutSeconds: options.bootTimeoutSeconds ?? 600,
      managementNic: { mac: options.managementMac ?? '52:54:00:00:00:10', ...(source.kind === 'box-file' && { guestForwards: source.guestForwards }) },
      labWire: { socket: labWireSocket, mac: labWireMac },
      fwCfgFiles,
    });
    await writeFile(join(dir, 'Vagrantfile'), vagrantfile);

    const timings: VagrantTimings = { boxMs, upMs: 0 };
    let vm: VagrantVm | undefined;
    // Registered before `up`: a failed or interrupted up can leave a defined domain behind.
    options.session.defer(() => (vm ? vm.destroy() : destroyProject(dir, domain, log).then(() => undefined)));

    log(`${name}: vagrant up (box ${box.name}, domain ${domain}, ssh 127.0.0.1:${sshPort})`);
    log(`${name}: libvirt runs TCG with a host thread per vCPU (it has no setting for one thread): rmmod toa under traffic can livelock this guest (harness/vm/qemu/tcg-threading.ts)`);
    const upStarted = Date.now();
    const up = await runVagrant(['up', '--provider=libvirt'], {
      projectDir: dir,
      timeoutMs: ((options.bootTimeoutSeconds ?? 600) + 300) * 1000,
      check: false,
      onOutput: (chunk) => {
        for (const line of chunk.split(/[\r\n]+/)) if (isWorthLogging(line)) log(`  vagrant: ${line.trim()}`);
      },
    });
    timings.upMs = Date.now() - upStarted;
    await writeFile(join(dir, 'vagrant-up.log'), `${up.stdout}\n--- stderr ---\n${up.stderr}`);
    await recordQemuPid(dir, domain);
    if (!succeeded(up)) {
      const console = new ConsoleLog(consoleLog);
      await console.refresh().catch(() => '');
      throw new Error(
        `vagrant up failed (exit ${up.exitCode}${up.timedOut ? ', timed out' : ''}) after ${(timings.upMs / 1000).toFixed(0)} s:\n` +
          `${vagrantError(up.stderr || up.stdout)}\nlast console lines:\n${console.tail(15)}`,
      );
    }
    log(`${name}: vagrant up took ${(timings.upMs / 1000).toFixed(1)} s`);

    const sshConfig = parseVagrantSshConfig((await runVagrant(['ssh-config'], { projectDir: dir, timeoutMs: 120_000 })).stdout);
    assertLoopbackOnly(sshConfig, sshPort);
    vm = new VagrantVm(dir, domain, box, sshPort, sshConfig, labWireSocket, labWireMac, new ConsoleLog(consoleLog), timings, log);
    return vm;
  }

  /** `vagrant destroy -f` (retried), then checks with libvirt that nothing of the domain is left. Idempotent. */
  destroy(): Promise<void> {
    this.destroyed ??= (async () => {
      this.timings.destroyMs = await destroyProject(this.dir, this.domain, this.log);
      await this.console.close();
    })();
    return this.destroyed;
  }

  private qemuPid(): number | null {
    try {
      // Synchronous: a few bytes, read from readiness loops.
      const text = readFileSync(join(this.dir, 'qemu.pid'), 'utf8');
      const pid = Number(text.trim());
      return Number.isInteger(pid) && pid > 1 ? pid : null;
    } catch {
      return null;
    }
  }
}

/** Vagrant's progress bars and Ruby backtrace frames are noise in a run log. */
function isWorthLogging(line: string): boolean {
  const text = line.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').trim();
  return text !== '' && !text.startsWith('Progress:') && !/^from \/\S+:\d+:in /.test(text);
}

/** The lines that say what went wrong: vagrant's own message, or the exception line above a backtrace. */
export function vagrantError(output: string): string {
  const lines = output.split('\n').filter(isWorthLogging).map((l) => l.trim());
  return lines.slice(-12).join('\n');
}

/** Returns how long it took. */
async function destroyProject(dir: string, domain: string, log: (line: string) => void): Promise<number> {
  const started = Date.now();
  // Power off first (vagrant-libvirt's destroy does the same, just later): on SIGINT the
  // session gives cleanups ~3 s, and a guest must not outlive the run even if the
  // definition does (the next run's reaper removes that).
  await runVirsh(['destroy', domain], { check: false });
  let last = '';
  for (let attempt = 1; attempt <= DESTROY_ATTEMPTS; attempt++) {
    const result = await runVagrant(['destroy', '-f'], { projectDir: dir, timeoutMs: 180_000, check: false });
    if (succeeded(result)) break;
    // Typically "another process is already executing an action": an `up` still finishing.
    last = (result.stderr || result.stdout).trim().split('\n').slice(-2).join(' | ');
    log(`vagrant destroy attempt ${attempt} failed (${last}); retrying in ${DESTROY_RETRY_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, DESTROY_RETRY_MS));
  }
  if (await domainExists(domain)) {
    log(`libvirt domain ${domain} still defined after vagrant destroy${last ? ` (${last})` : ''}: removing it with virsh`);
    await removeDomain(domain);
  }
  return Date.now() - started;
}

/** libvirt's pid file for the domain's QEMU, copied into the run folder for the session reaper. */
async function recordQemuPid(dir: string, domain: string): Promise<void> {
  const pid = await readFile(`/run/libvirt/qemu/${domain}.pid`, 'utf8').catch(() => '');
  if (pid.trim()) await writeFile(join(dir, 'qemu.pid'), `${pid.trim()}\n`);
}
