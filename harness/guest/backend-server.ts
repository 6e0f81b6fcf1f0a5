import { parseBackendLog, type BackendLogRecord } from '../checks/backend-log.ts';
import { shellQuote, type GuestShell } from '../remote/guest-shell.ts';

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
}

export class BackendServer {
  private constructor(
    private readonly guest: GuestShell,
    readonly port: number,
    readonly logFile: string,
  ) {}

  static async start(guest: GuestShell, options: BackendServerOptions = {}): Promise<BackendServer> {
    const port = options.port ?? 80;
    const logFile = options.logFile ?? `/var/log/toa-backend-${port}.log`;
    // Under TCG a connection can sit in retransmission backoff for tens of seconds (BENCHMARKS.md,
    // TCG threading); toa-backend's default 30 s I/O limit would then cut a response short. The
    // harness's own limits (60–180 s per request) decide when a transfer has failed.
    const args = ['toa-backend', '--port', String(port), '--log', logFile, '--family', options.family ?? '4', '--timeout-ms', '150000'];
    if (options.deferred) args.push('--deferred');
    const stderr = `/tmp/toa-backend-${port}.stderr`;
    await guest.check(`${args.map(shellQuote).join(' ')} </dev/null >/dev/null 2>${stderr} &`);
    // Listening is announced on stderr; give a slow TCG guest a few seconds.
    await guest.check(
      `for i in $(seq 50); do grep -q 'toa-backend listening' ${stderr} && exit 0; sleep 0.1; done; cat ${stderr}; exit 1`,
      { timeoutMs: 15_000 },
    );
    return new BackendServer(guest, port, logFile);
  }

  async records(): Promise<BackendLogRecord[]> {
    const result = await this.guest.run(`cat ${shellQuote(this.logFile)} 2>/dev/null`);
    return parseBackendLog(result.stdout);
  }

  /** Stops this backend: one process, a thread per connection, so a connection still being served is cut. */
  async stop(): Promise<void> {
    await this.guest.run(`pkill -f 'toa-backend --port ${this.port} '`);
  }

  async clearLog(): Promise<void> {
    await this.guest.check(`: > ${shellQuote(this.logFile)}`);
  }
}
