import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reapOrphanedSessions } from '../../../harness/lifecycle/reaper.ts';
import { RunSession } from '../../../harness/lifecycle/run-session.ts';

describe('reapOrphanedSessions', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'toa-lab-reaper-'));
    process.env.TOA_LAB_RUN_DIR = root;
  });
  afterEach(() => {
    delete process.env.TOA_LAB_RUN_DIR;
  });

  it('kills the processes a dead run left and removes its folder, sparing live runs', async () => {
    // A "dead run": its owner pid does not exist; its "QEMU" is a sleep started from its folder.
    const dead = join(root, 's-999999-dead');
    await mkdir(join(dead, 'vm-1'), { recursive: true });
    await writeFile(join(dead, 'owner.json'), JSON.stringify({ pid: 999_999, startTime: '1' }));
    const orphan = spawn('bash', ['-c', `exec -a "${dead}/qemu" sleep 60`], { stdio: 'ignore' });
    const orphanExit = new Promise((resolve) => orphan.on('exit', (_code, signal) => resolve(signal)));
    await new Promise((r) => setTimeout(r, 200));
    await writeFile(join(dead, 'vm-1', 'qemu.pid'), String(orphan.pid));

    const live = await RunSession.open(); // reaps on open, and is itself live
    expect(existsSync(dead)).toBe(false);
    expect(await orphanExit).toBe('SIGKILL');
    expect(await reapOrphanedSessions()).toEqual([]);
    expect(existsSync(live.dir)).toBe(true);
    await live.close();
    expect(existsSync(live.dir)).toBe(false);
  });

  it('never kills a process whose command line is not from the dead run', async () => {
    const dead = join(root, 's-999998-dead');
    await mkdir(dead, { recursive: true });
    await writeFile(join(dead, 'owner.json'), JSON.stringify({ pid: 999_998, startTime: '1' }));
    const bystander = spawn('sleep', ['30'], { stdio: 'ignore' });
    await writeFile(join(dead, 'qemu.pid'), String(bystander.pid));
    await reapOrphanedSessions();
    expect(existsSync(dead)).toBe(false);
    expect(bystander.exitCode).toBeNull();
    bystander.kill();
  });
});
