import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';

export interface QemuExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const QEMU_BINARY = 'qemu-system-x86_64';

/**
 * One QEMU process. It is started under `setpriv --pdeathsig KILL`, so even if
 * the harness is SIGKILLed the kernel kills QEMU with it; the run session's pid
 * file and the reaper cover everything else.
 */
export class QemuProcess {
  readonly exited: Promise<QemuExit>;
  private exit: QemuExit | null = null;

  private constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
  }

  static start(args: readonly string[], stderrLog: string): QemuProcess {
    const stderr = openSync(stderrLog, 'a');
    const [file, argv] = withParentDeathSignal(QEMU_BINARY, args);
    try {
      const child = spawn(file, argv, { stdio: ['ignore', 'ignore', stderr] });
      child.on('error', () => {}); // surfaced through `exited` (code null) and the stderr log
      return new QemuProcess(child);
    } finally {
      closeSync(stderr);
    }
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get hasExited(): QemuExit | null {
    return this.exit;
  }

  /** SIGTERM, then SIGKILL if QEMU has not gone within `graceMs`. */
  async stop(graceMs = 2_000): Promise<QemuExit> {
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
