import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * One long-running helper process of a run (QEMU, the guests' package proxy).
 * It is started under `setpriv --pdeathsig KILL`, so even if the harness is
 * SIGKILLed the kernel kills it too; the run session's pid file and the reaper
 * cover everything else.
 */
export class OwnedProcess {
  readonly exited: Promise<ProcessExit>;
  private exit: ProcessExit | null = null;

  private constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
  }

  /** Starts `program` with `args`; its stderr (and stdout, for chatty daemons) is appended to `stderrLog`. */
  static start(program: string, args: readonly string[], stderrLog: string): OwnedProcess {
    const stderr = openSync(stderrLog, 'a');
    const [file, argv] = withParentDeathSignal(program, args);
    try {
      const child = spawn(file, argv, { stdio: ['ignore', stderr, stderr] });
      child.on('error', () => {}); // surfaced through `exited` (code null) and the stderr log
      return new OwnedProcess(child);
    } finally {
      closeSync(stderr);
    }
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get hasExited(): ProcessExit | null {
    return this.exit;
  }

  /** SIGTERM, then SIGKILL if it has not gone within `graceMs`. */
  async stop(graceMs = 2_000): Promise<ProcessExit> {
    if (this.exit) return this.exit;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }
}

function withParentDeathSignal(file: string, args: readonly string[]): [string, string[]] {
  if (existsSync('/usr/bin/setpriv')) return ['/usr/bin/setpriv', ['--pdeathsig', 'KILL', '--', file, ...args]];
  return [file, [...args]];
}
