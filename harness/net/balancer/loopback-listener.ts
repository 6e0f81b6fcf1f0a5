import { createServer, type Server, type Socket } from 'node:net';

/**
 * Where a TCP balancer's real clients connect: a node server on 127.0.0.1 (by default, on an
 * ephemeral port). Half-open is allowed so a client that half-closes still gets the whole
 * response; Nagle is off so small requests are not held back.
 */
export class LoopbackListener {
  private constructor(
    private readonly server: Server,
    readonly host: string,
    readonly port: number,
  ) {}

  static start(options: { host?: string; port?: number } | undefined, onClient: (socket: Socket) => void): Promise<LoopbackListener> {
    const host = options?.host ?? '127.0.0.1';
    const server = createServer({ allowHalfOpen: true, noDelay: true }, onClient);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port: options?.port ?? 0 }, () => {
        server.off('error', reject);
        const address = server.address();
        resolve(new LoopbackListener(server, host, address && typeof address === 'object' ? address.port : 0));
      });
    });
  }

  /** `http://127.0.0.1:PORT` — convenient for HTTP clients. */
  get url(): string {
    return `http://${this.host}:${this.port}`;
  }

  /** Stops accepting; resolves once the server is closed (live connections are the caller's). */
  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
