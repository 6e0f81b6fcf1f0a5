import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UnknownImageError } from '../../harness/images/debian/debian-image-catalog.ts';
import { BrokenImageError } from '../../harness/images/debian/disk-image.ts';
import { FullOsLab } from '../../harness/lab/full-os-lab.ts';
import { RunSession } from '../../harness/lifecycle/run-session.ts';
import { SshNotReadyError } from '../../harness/remote/ssh-readiness.ts';
import { CommandLog } from '../../harness/remote/command-log.ts';
import { HostKeyPin } from '../../harness/remote/host-key-pin.ts';
import { SshGuestShell } from '../../harness/remote/ssh-guest-shell.ts';
import { generateSshKeyPair } from '../../harness/remote/ssh-key-pair.ts';
import { findFreeLocalPort } from '../../harness/vm/free-port.ts';
import { FullOsVm } from '../../harness/vm/full-os-vm.ts';

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
    await expect(FullOsLab.start(session, { image: 'debian-7' })).rejects.toThrow(UnknownImageError);
    expect(qemuPids(session.dir)).toEqual([]);
  });

  it('a broken image file: refused before QEMU starts', async () => {
    const dir = await session.subdir('broken');
    const disk = join(dir, 'base.qcow2');
    writeFileSync(disk, 'QFI\xfb but not really a qcow2 image');
    const image = { name: 'broken', disk, kernel: disk, initrd: disk };
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
    const error = await FullOsLab.start(session, { image: 'debian-12', bootTimeoutMs: 4_000 }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/no SSH banner from 127\.0\.0\.1:\d+ within 4 s/);
    expect((error as Error).message).toContain('last console lines');
    const pids = qemuPids(session.dir);
    expect(pids).toHaveLength(1);
    await session.close();
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
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
