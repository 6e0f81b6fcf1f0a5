import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeStreamFrame, StreamFrameDecoder } from './stream-framing.ts';
import { WireListeners, type Wire } from './wire.ts';

export interface QemuStreamWireOptions {
  /** Unix socket path QEMU listens on (`-netdev stream,server=on,addr.type=unix,addr.path=…`). */
  path: string;
  /** Give up connecting after this long (default 30 s: QEMU creates the socket early in start-up). */
  connectTimeoutMs?: number;
  /** Pause between attempts while the socket does not exist or refuses (default 100 ms). */
  retryIntervalMs?: number;
  signal?: AbortSignal;
}

export class QemuStreamConnectError extends Error {
  override readonly name = 'QemuStreamConnectError';
}

/**
 * Connect errors that mean "QEMU has not created or started listening on the socket yet".
 * Anything else (EACCES, ENOTSOCK, a path too long) will not fix itself by waiting.
 */
const NOT_YET_LISTENING = new Set(['ENOENT', 'ECONNREFUSED', 'EAGAIN']);

/**
 * The lab wire to a QEMU guest's second NIC. QEMU is the server (with `server=off` QEMU 7.2
 * connects once and never reconnects, losing frames silently if we restart); we connect as a
 * client, retrying until the socket exists, and may reconnect by creating a new wire.
 */
export class QemuStreamWire implements Wire {
  private readonly listeners = new WireListeners();
  private readonly decoder = new StreamFrameDecoder();

  private constructor(
    private readonly socket: Socket,
    readonly path: string,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => this.listeners.markClosed(error));
    socket.on('close', () => this.listeners.markClosed());
  }

  /** Connects to QEMU's socket, retrying until it accepts or `connectTimeoutMs` passes. */
  static async connect(options: QemuStreamWireOptions): Promise<QemuStreamWire> {
    const { path, connectTimeoutMs = 30_000, retryIntervalMs = 100, signal } = options;
    const deadline = Date.now() + connectTimeoutMs;
    let attempts = 0;
    for (;;) {
      attempts++;
      signal?.throwIfAborted();
      try {
        const socket = await connectOnce(path);
        socket.setNoDelay(true);
        return new QemuStreamWire(socket, path);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? 'unknown';
        if (!NOT_YET_LISTENING.has(code)) {
          throw new QemuStreamConnectError(`cannot connect to QEMU stream socket ${path}: ${(error as Error).message}`, {
            cause: error,
          });
        }
        if (Date.now() + retryIntervalMs > deadline) {
          throw new QemuStreamConnectError(
            `QEMU stream socket ${path} did not accept a connection within ${connectTimeoutMs} ms ` +
              `(${attempts} attempts, last error ${code}); is QEMU running with ` +
              `-netdev stream,server=on,addr.type=unix,addr.path=${path}?`,
            { cause: error },
          );
        }
        await sleep(retryIntervalMs, undefined, signal ? { signal } : undefined);
      }
    }
  }

  get closed(): boolean {
    return this.listeners.closed;
  }

  /** Frames sent after the wire closed are dropped, like frames on an unplugged cable. */
  send(frame: Uint8Array): void {
    if (this.closed) return;
    const [prefix, body] = encodeStreamFrame(frame);
    // Two writes, one syscall: cork so the prefix and frame leave together.
    this.socket.cork();
    this.socket.write(prefix);
    this.socket.write(body);
    this.socket.uncork();
  }

  onFrame(listener: (frame: Uint8Array) => void): () => void {
    return this.listeners.onFrame(listener);
  }

  onClose(listener: (error?: Error) => void): () => void {
    return this.listeners.onClose(listener);
  }

  async close(): Promise<void> {
    if (this.socket.destroyed) return;
    await new Promise<void>((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.end();
      // QEMU closes its side promptly; don't hang a teardown on it if it does not.
      setTimeout(() => this.socket.destroy(), 1000).unref();
    });
  }

  private onData(chunk: Buffer): void {
    let frames: Uint8Array[];
    try {
      frames = this.decoder.push(chunk);
    } catch (error) {
      this.socket.destroy(error as Error);
      return;
    }
    for (const frame of frames) this.listeners.deliver(frame);
  }
}

function connectOnce(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path });
    const onError = (error: Error): void => {
      socket.destroy();
      reject(error);
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}
