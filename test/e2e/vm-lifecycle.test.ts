import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureMicroVmImage, type MicroVmImage } from '../../harness/images/microvm/build-microvm-image.ts';
import { RunSession } from '../../harness/lifecycle/run-session.ts';
import { MicroVm } from '../../harness/vm/micro-vm.ts';
import { isZombie, qemuProcessesUnder } from '../helpers/qemu-processes.ts';

/**
 * Nothing a run starts may outlive it: not on success, not on a boot that
 * hangs or fails, not on Ctrl-C, and not even on SIGKILL (the kernel kills
 * QEMU with its parent; the next run reaps the folder).
 */
describe('micro-VM lifecycle', () => {
  let image: MicroVmImage;
  let session: RunSession;

  beforeAll(async () => {
    image = await ensureMicroVmImage();
    session = await RunSession.open();
  });
  afterAll(async () => {
    await session?.close();
  });

  it('boots, answers the agent, and leaves no QEMU process after stop()', async () => {
    const vm = await MicroVm.start({ image, session });
    expect((await vm.agent.check('cat /proc/version')).stdout).toContain(image.kernelRelease);
    expect(vm.accelerator.reason.length).toBeGreaterThan(0);
    const pid = vm.qemu.pid!;
    await vm.stop();
    expect(isAlive(pid)).toBe(false);
  });

  it('reports a VM that does not come up in time as hung, with the console, and kills it', async () => {
    const started = Date.now();
    const error = await MicroVm.start({ image, session, bootTimeoutMs: 1_500 }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/did not come up: no "guest ready" line on the serial console within 1.5 s/);
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(qemuProcessesUnder(session.dir)).toEqual([]);
  });

  it('reports a broken image clearly (the guest dies at boot) and leaves nothing running', async () => {
    const broken = join(session.dir, 'broken-initrd.cpio');
    await writeFile(broken, 'this is not an initramfs');
    const error = await MicroVm.start({ image: { ...image, initrd: broken }, session, bootTimeoutMs: 120_000 }).catch(
      (e: Error) => e,
    );
    expect((error as Error).message).toMatch(/did not come up: QEMU exited during boot/);
    expect((error as Error).message).toMatch(/Kernel panic/);
    expect(qemuProcessesUnder(session.dir)).toEqual([]);
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`on ${signal} the harness stops its VMs and removes its run folder`, async () => {
      const child = await startBootAndWait();
      child.process.kill(signal);
      await child.exited;
      expect(isAlive(child.qemuPid)).toBe(false);
      expect(existsSync(child.sessionDir)).toBe(false);
    });
  }

  it('after SIGKILL of the harness, QEMU dies with it and the next run reaps the folder', async () => {
    const child = await startBootAndWait();
    child.process.kill('SIGKILL');
    await child.exited;
    await waitUntil(() => !isAlive(child.qemuPid), 10_000);
    expect(existsSync(child.sessionDir)).toBe(true);
    const next = await RunSession.open();
    await next.close();
    expect(existsSync(child.sessionDir)).toBe(false);
  });
});

interface BootedChild {
  process: ReturnType<typeof spawn>;
  sessionDir: string;
  qemuPid: number;
  exited: Promise<unknown>;
}

async function startBootAndWait(): Promise<BootedChild> {
  const child = spawn('node', ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'boot-and-wait.ts')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const ready = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = /READY .*\n/.exec(out);
      if (line) resolve(line[0]);
    });
    child.on('exit', (code) => reject(new Error(`boot-and-wait exited (${code}) before READY: ${out}`)));
  });
  const [, sessionDir, pid] = ready.trim().split(' ');
  return { process: child, sessionDir: sessionDir!, qemuPid: Number(pid), exited };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !isZombie(pid);
  } catch {
    return false;
  }
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
}
