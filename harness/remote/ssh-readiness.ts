import { connect } from 'node:net';

/**
 * Waiting for a guest's sshd, bounded. QEMU's user-mode port forward accepts
 * TCP at once, long before the guest is up (LAB-NOTES), so an open port means
 * nothing: ready is the server's `SSH-2.0-...` banner, then a working login
 * (the caller's part). Attempts back off from 250 ms to 3 s.
 */
export interface SshWaitOptions {
  host: string;
  port: number;
  timeoutMs: number;
  /** Why waiting is pointless (e.g. "QEMU exited"), or null while it may still come up. */
  givenUp?: () => string | null;
}

export class SshNotReadyError extends Error {
  override readonly name = 'SshNotReadyError';
  constructor(
    readonly reason: string,
    readonly attempts: number,
  ) {
    super(reason);
  }
}

/** Resolves with the banner line; rejects with SshNotReadyError when the deadline passes first. */
export async function waitForSshBanner(options: SshWaitOptions): Promise<{ banner: string; attempts: number }> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError = 'no attempt made';
  for (let attempt = 1; ; attempt++) {
    const gaveUp = options.givenUp?.();
    if (gaveUp) throw new SshNotReadyError(`sshd on ${options.host}:${options.port} never answered: ${gaveUp}`, attempt - 1);
    try {
      const banner = await readBanner(options.host, options.port, Math.min(5_000, Math.max(500, deadline - Date.now())));
      return { banner, attempts: attempt };
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() >= deadline) {
      throw new SshNotReadyError(
        `no SSH banner from ${options.host}:${options.port} within ${options.timeoutMs / 1000} s ` +
          `(${attempt} attempts; last: ${lastError})`,
        attempt,
      );
    }
    await sleep(Math.min(backoffMs(attempt), Math.max(0, deadline - Date.now())));
  }
}

/** 250 ms, 500 ms, 1 s, 2 s, then 3 s between attempts. */
export function backoffMs(attempt: number): number {
  return Math.min(3_000, 250 * 2 ** Math.max(0, attempt - 1));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function readBanner(host: string, port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let received = '';
    const finish = (error: Error | null, banner?: string) => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(banner!);
    };
    const timer = setTimeout(() => finish(new Error(`connected, but no banner within ${timeoutMs} ms`)), timeoutMs);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      received += chunk;
      const line = received.split('\r\n')[0] ?? '';
      if (received.includes('\n')) {
        if (line.startsWith('SSH-')) finish(null, line.trim());
        else finish(new Error(`not an SSH server: ${JSON.stringify(line.slice(0, 60))}`));
      }
    });
    socket.on('error', (error) => finish(error));
    // The port forward accepts, then closes when nothing listens in the guest yet.
    socket.on('close', () => finish(new Error('connection closed before a banner')));
  });
}
