import { parseBackendLog, type BackendLogRecord } from '../checks/backend-log.ts';
import { readGuestFile, shellQuote, type GuestShell } from '../remote/guest-shell.ts';

/**
 * native/backend's toa-backend, run in the guest: a small HTTP server whose
 * access log records, per connection, what getpeername() and accept() said.
 */
export interface BackendServerOptions {
  port?: number;
  family?: '4' | '6' | 'dual';
  /** TCP_DEFER_ACCEPT on the listener. */
  deferred?: boolean;
  logFile?: string;
  /**
   * A command the backend runs under, e.g. `nsenter -t PID -n` (in a network namespace). It must
   * exec the backend (as nsenter and unshare do), so the pid the shell reports stays the backend's.
   */
  runIn?: readonly string[];
}

export class BackendServer {
  private constructor(
    private readonly guest: GuestShell,
    readonly port: number,
    readonly logFile: string,
    /** The process, as the guest's shell started it (`$!`). */
    readonly pid: number,
  ) {}

  static async start(guest: GuestShell, options: BackendServerOptions = {}): Promise<BackendServer> {
    const port = options.port ?? 80;
    const logFile = options.logFile ?? `/var/log/toa-backend-${port}.log`;
    // Under TCG a connection can sit in retransmission backoff for tens of seconds (BENCHMARKS.md,
    // TCG threading); toa-backend's default 30 s I/O limit would then cut a response short. The
    // harness's own limits (60–180 s per request) decide when a transfer has failed.
    const args = [...(options.runIn ?? []), 'toa-backend', '--port', String(port), '--log', logFile, '--family', options.family ?? '4', '--timeout-ms', '150000'];
    if (options.deferred) args.push('--deferred');
    const stderr = `/tmp/toa-backend-${port}.stderr`;
    const started = await guest.check(`${args.map(shellQuote).join(' ')} </dev/null >/dev/null 2>${stderr} & echo $!`);
    const pid = Number(started.stdout.trim());
    // Listening is announced on stderr; give a slow TCG guest a few seconds.
    await guest.check(
      `for i in $(seq 50); do grep -q 'toa-backend listening' ${stderr} && exit 0; sleep 0.1; done; cat ${stderr}; exit 1`,
      { timeoutMs: 15_000 },
    );
    return new BackendServer(guest, port, logFile, pid);
  }

  async records(): Promise<BackendLogRecord[]> {
    return parseBackendLog(await readGuestFile(this.guest, this.logFile, { timeoutMs: 120_000 }));
  }

  /**
   * Stops this backend: one process, a thread per connection, so a connection still being
   * served is cut. By its pid, not by name: the micro-VM's busybox has no pkill/pgrep (the
   * old `pkill -f` stopped nothing there, and a later backend on the same port found it
   * taken). Returns once the process is gone, so its port is free; KILL after 5 s.
   */
  async stop(): Promise<void> {
    if (!Number.isInteger(this.pid) || this.pid <= 0) return;
    const pid = this.pid;
    await this.guest.run(
      // Gone, or a zombie (the micro-VM's init may not reap it; a zombie holds no socket).
      `kill ${pid} 2>/dev/null; for i in $(seq 50); do s=$(cat /proc/${pid}/stat 2>/dev/null) || exit 0; ` +
        `case "$s" in *') Z '*) exit 0;; esac; sleep 0.1; done; kill -9 ${pid} 2>/dev/null; sleep 0.2`,
      { timeoutMs: 15_000 },
    );
  }

  async clearLog(): Promise<void> {
    await this.guest.check(`: > ${shellQuote(this.logFile)}`);
  }
}
