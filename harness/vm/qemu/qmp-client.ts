import { connect, type Socket } from 'node:net';

/**
 * A minimal QMP client (QEMU's JSON machine protocol) over the unix socket
 * `-mon chardev=…,mode=control` listens on: greeting, capabilities, then one
 * command at a time. Asynchronous events are read and dropped; the harness
 * polls for what it waits for (query-migrate), which needs no event plumbing.
 */
export class QmpClient {
  private buffer = '';
  private waiting: Array<{ resolve: (reply: QmpReply) => void; reject: (error: Error) => void }> = [];
  private gone: Error | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    const onGone = (error?: Error): void => {
      this.gone = new Error(`QMP connection closed${error ? `: ${error.message}` : ''}`);
      for (const w of this.waiting.splice(0)) w.reject(this.gone);
    };
    socket.on('error', onGone);
    socket.on('close', () => onGone());
  }

  /** Connects (retrying while QEMU creates the socket) and leaves capabilities negotiation done. */
  static async connect(path: string, timeoutMs = 10_000): Promise<QmpClient> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const socket = await new Promise<Socket>((resolve, reject) => {
          const s = connect(path, () => resolve(s));
          s.once('error', reject);
        });
        const client = new QmpClient(socket);
        const greeting = await client.next();
        if (!('QMP' in greeting)) throw new Error(`not a QMP greeting: ${JSON.stringify(greeting)}`);
        await client.execute('qmp_capabilities');
        return client;
      } catch (error) {
        if (Date.now() >= deadline) throw new Error(`cannot reach QMP at ${path}: ${String(error)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** Runs one command; resolves with its `return`, rejects with QEMU's `error.desc`. */
  execute(command: string, args?: Record<string, unknown>): Promise<unknown> {
    const result = this.queue.then(async () => {
      if (this.gone) throw this.gone;
      this.socket.write(JSON.stringify({ execute: command, ...(args && { arguments: args }) }) + '\n');
      for (;;) {
        const reply = await this.next();
        if ('event' in reply) continue;
        if ('error' in reply) throw new Error(`QMP ${command}: ${reply.error.desc}`);
        if ('return' in reply) return reply.return;
      }
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  close(): void {
    this.socket.destroy();
  }

  private next(): Promise<QmpReply> {
    if (this.gone) return Promise.reject(this.gone);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.drain();
    });
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    this.drain();
  }

  private drain(): void {
    let newline: number;
    while (this.waiting.length && (newline = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, newline).trim();
      this.buffer = this.buffer.slice(newline + 1);
      if (!line) continue;
      this.waiting.shift()!.resolve(JSON.parse(line) as QmpReply);
    }
  }
}

type QmpReply =
  | { QMP: unknown }
  | { event: string; data?: unknown }
  | { return: unknown }
  | { error: { class: string; desc: string } };
