import { existsSync } from 'node:fs';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isSameProcessAlive } from './process-identity.ts';
import { killPidFiles } from './run-session.ts';

/** Where run sessions live: short, because unix socket paths must fit in 108 bytes. */
export function sessionsRoot(): string {
  return process.env.TOA_LAB_RUN_DIR ?? '/tmp/toa-lab';
}

export interface ReapedSession {
  dir: string;
  ownerPid: number | null;
}

/**
 * Removes what runs that died without cleaning up (SIGKILL, OOM, power) left
 * behind: their QEMU processes and their folders. A session is orphaned when
 * the process named in its owner.json is gone (same pid and start time).
 */
export async function reapOrphanedSessions(): Promise<ReapedSession[]> {
  const root = sessionsRoot();
  if (!existsSync(root)) return [];
  const reaped: ReapedSession[] = [];
  for (const name of await readdir(root)) {
    if (!name.startsWith('s-')) continue;
    const dir = join(root, name);
    const owner = await readOwner(dir);
    if (owner && isSameProcessAlive(owner.pid, owner.startTime)) continue;
    // No owner file yet may just mean another run is creating this folder right now.
    if (!owner && (await ageMs(dir)) < 30_000) continue;
    killPidFiles(dir);
    await rm(dir, { recursive: true, force: true });
    reaped.push({ dir, ownerPid: owner?.pid ?? null });
  }
  return reaped;
}

async function readOwner(dir: string): Promise<{ pid: number; startTime: string | null } | null> {
  try {
    return JSON.parse(await readFile(join(dir, 'owner.json'), 'utf8')) as { pid: number; startTime: string | null };
  } catch {
    return null; // no owner file: a session that died while being created
  }
}

async function ageMs(path: string): Promise<number> {
  return Date.now() - (await stat(path)).mtimeMs;
}
