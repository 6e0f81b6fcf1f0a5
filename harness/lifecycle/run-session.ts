import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { processStartTime } from './process-identity.ts';
import { reapOrphanedSessions, sessionsRoot } from './reaper.ts';

/**
 * Everything a run creates that could outlive it (QEMU processes, sockets,
 * overlays, temp files) belongs to a RunSession:
 * - it lives in one folder under /tmp/toa-lab (short, for unix socket paths),
 *   with an owner.json naming this process, so a later run can reap it if this
 *   one is SIGKILLed;
 * - cleanups registered with `defer` run on close(), and on SIGINT/SIGTERM
 *   before the process exits.
 */
export class RunSession {
  private readonly cleanups: Array<() => Promise<void> | void> = [];
  private closed = false;
  private counter = 0;

  private constructor(readonly dir: string) {}

  static async open(): Promise<RunSession> {
    await reapOrphanedSessions();
    const dir = join(sessionsRoot(), `s-${process.pid}-${randomBytes(3).toString('hex')}`);
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, 'owner.json'),
      JSON.stringify({ pid: process.pid, startTime: processStartTime(process.pid) }),
    );
    const session = new RunSession(dir);
    liveSessions.add(session);
    installSignalHandlers();
    return session;
  }

  /** A fresh sub-folder for one resource (a VM, a build). */
  async subdir(prefix: string): Promise<string> {
    const dir = join(this.dir, `${prefix}-${++this.counter}`);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  /** Registers a cleanup; they run last-registered first. */
  defer(cleanup: () => Promise<void> | void): void {
    this.cleanups.push(cleanup);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    liveSessions.delete(this);
    for (const cleanup of this.cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        process.stderr.write(`toa-lab: cleanup failed: ${String(error)}\n`);
      }
    }
    removeRunFolder(this.dir);
  }

  /** Last resort on a signal: synchronous, kills processes named by pid files. */
  closeNow(): void {
    killPidFiles(this.dir);
    removeRunFolder(this.dir);
  }
}

const liveSessions = new Set<RunSession>();
let handlersInstalled = false;

function installSignalHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    process.once(signal, () => {
      process.stderr.write(`toa-lab: ${signal}: stopping VMs and removing run files\n`);
      const pending = [...liveSessions];
      // Give orderly cleanups a moment, then fall back to the synchronous path.
      const timer = setTimeout(() => {
        for (const s of pending) s.closeNow();
        process.exit(code);
      }, 3_000);
      void Promise.allSettled(pending.map((s) => s.close())).then(() => {
        clearTimeout(timer);
        process.exit(code);
      });
    });
  }
  process.once('exit', () => {
    for (const s of liveSessions) s.closeNow();
  });
}

/** Kills every process named by a `*.pid` file below `dir` (QEMU writes one per VM). */
export function killPidFiles(dir: string): void {
  for (const pidFile of findPidFiles(dir)) {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 1) continue;
    // Only kill it if it is still the process that wrote the file: it runs from this folder.
    const cmdline = existsSync(`/proc/${pid}/cmdline`) ? readFileSync(`/proc/${pid}/cmdline`, 'utf8') : '';
    if (!cmdline.includes(dir)) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

function findPidFiles(dir: string, depth = 0): string[] {
  if (depth > 3 || !existsSync(dir)) return [];
  const found: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (stat?.isDirectory()) found.push(...findPidFiles(path, depth + 1));
    else if (name.endsWith('.pid')) found.push(path);
  }
  return found;
}

/**
 * A cell that is still finishing when a signal closes the session can write into the
 * folder while it is being removed (a command log line, an SSH known_hosts): rm then
 * fails with ENOTEMPTY and leaves the rest. Retried, as Node's rm allows (measured: a
 * SIGTERMed foreign-image run left its proxy and seed files behind).
 */
function removeRunFolder(dir: string): void {
  rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
}
