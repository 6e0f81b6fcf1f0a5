import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UnknownImageError } from '../../harness/images/debian/debian-image-catalog.ts';
import { BrokenImageError } from '../../harness/images/debian/disk-image.ts';
import { QemuMachine } from '../../harness/machine/qemu-machine.ts';
import { RunSession } from '../../harness/lifecycle/run-session.ts';
import { repoRoot } from '../../harness/repo-root.ts';
import { SshNotReadyError } from '../../harness/remote/ssh-readiness.ts';
import { CommandLog } from '../../harness/remote/command-log.ts';
import { HostKeyPin } from '../../harness/remote/host-key-pin.ts';
import { SshGuestShell } from '../../harness/remote/ssh-guest-shell.ts';
import { generateSshKeyPair } from '../../harness/remote/ssh-key-pair.ts';
import { findFreeLocalPort } from '../../harness/vm/free-port.ts';
import { FullOsVm } from '../../harness/vm/full-os-vm.ts';
import { removeRunFolders, runToaLab } from '../helpers/toa-lab-run.ts';

// The reports these runs write are read by the tests, then removed.
afterAll(removeRunFolders);

/** The full-OS lab refuses bad input with a clear error, and leaves nothing running. */
describe('full OS: bad input', () => {
  let session: RunSession;
  beforeEach(async () => {
    session = await RunSession.open();
  });
  afterEach(async () => {
    await session.close();
  });

  it('an unknown image name', async () => {
    await expect(QemuMachine.start(session, { image: 'debian-7' })).rejects.toThrow(UnknownImageError);
    expect(qemuPids(session.dir)).toEqual([]);
  });

  it('a broken image file: refused before QEMU starts', async () => {
    const dir = await session.subdir('broken');
    const disk = join(dir, 'base.qcow2');
    writeFileSync(disk, 'QFI\xfb but not really a qcow2 image');
    const image = { kind: 'lab-image' as const, name: 'broken', disk, kernel: disk, initrd: disk };
    const error = await FullOsVm.start({ image, session, authorizedKey: 'ssh-ed25519 AAAA x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BrokenImageError);
    expect((error as Error).message).toContain(`disk image ${disk} is not usable`);
    expect(qemuPids(session.dir)).toEqual([]);
  });

  it('a closed SSH port: a bounded wait and a reason', async () => {
    const port = await findFreeLocalPort();
    const started = Date.now();
    const error = await SshGuestShell.connect(
      {
        host: '127.0.0.1',
        port,
        username: 'root',
        privateKey: generateSshKeyPair().privatePem,
        hostKeys: new HostKeyPin(`[127.0.0.1]:${port}`),
        log: new CommandLog(join(session.dir, 'commands.jsonl')),
      },
      { timeoutMs: 2_000 },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SshNotReadyError);
    expect((error as Error).message).toMatch(/no SSH banner .* within 2 s .*ECONNREFUSED/);
    expect(Date.now() - started).toBeLessThan(6_000);
  });

  it('a guest whose sshd does not answer in time: the console tail, and QEMU stopped with the session', async () => {
    const error = await QemuMachine.start(session, { image: 'debian-12', bootTimeoutMs: 4_000 }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/no SSH banner from 127\.0\.0\.1:\d+ within 4 s/);
    expect((error as Error).message).toContain('last console lines');
    const pids = qemuPids(session.dir);
    expect(pids).toHaveLength(1);
    await session.close();
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
  });
});

describe('full OS: a --toa-source that does not compile', () => {
  it("ends that image's run with the compiler's evidence and the known causes; the other image goes on; nothing is left running", () => {
    const run = runToaLab(
      [
        '--image', 'debian-12,microvm-bookworm',
        '--scenario', 'guide-procedure,reboot-persistence,fullnat-toa-v4',
        '--parallel', '1',
        '--toa-source', join(repoRoot(), 'test/fixtures/toa-old-api'),
      ],
      { timeoutMs: 600_000 },
    );
    expect(run.code, run.stderr).toBe(1);
    const outcome = run.outcome;

    // The guide's own make, in the guest, failed: its step says why, with the compiler's first errors.
    const procedure = outcome('debian-12', 'guide-procedure')!;
    const build = procedure.steps?.find((s) => s.name.startsWith('Build toa.ko'));
    expect(build?.status).toBe('failed');
    expect(build?.summary).toMatch(/kallsyms_lookup_name is no longer exported/);
    expect(build?.evidence).toMatch(/implicit declaration of function .kallsyms_lookup_name/);
    expect(outcome('debian-12', 'reboot-persistence')?.checks[0]?.passed).toBe(false);
    expect(outcome('debian-12', 'fullnat-toa-v4')?.error).toMatch(/procedure did not complete/);
    // The micro-VM cell still ran and gave its own verdict.
    expect(outcome('microvm-bookworm', 'toa-module')?.error).toMatch(/did not build/);
    expect(run.report).toMatch(/debian-12: module verdict: did not build/);
    expect(run.report).toMatch(/microvm-bookworm: module verdict: did not build/);
    // The run's QEMU processes are gone with it.
    expect(spawnSync('pgrep', ['-f', `/s-${run.pid}-`]).stdout.toString()).toBe('');
  });
});

/** QEMU pids named by pid files in the session folder (what the reaper would kill). */
function qemuPids(dir: string): number[] {
  const pids: number[] = [];
  const walk = (path: string) => {
    for (const name of readdirSync(path)) {
      const child = join(path, name);
      if (statSync(child).isDirectory()) walk(child);
      else if (name === 'qemu.pid') pids.push(Number(readFileSync(child, 'utf8').trim()));
    }
  };
  walk(dir);
  return pids.filter(isAlive);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
