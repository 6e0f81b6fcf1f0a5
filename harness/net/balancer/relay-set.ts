import type { Socket } from 'node:net';
import type { TcpSocket } from '../stack/tcp-socket.ts';
import { relayConnection, type Relay, type RelayOptions, type RelayOutcome } from './connection-relay.ts';

/** How many bytes of what the client sent first a record keeps (`clientHead`). */
export const CLIENT_HEAD_BYTES = 256;

/**
 * The start of what the client sent, as latin1 text, once it arrives: lets a test find the
 * record of a connection by what it sent (e.g. a `GET /?conn=17` tag) instead of by timing.
 */
export function captureClientHead(client: Socket, record: { clientHead: string | undefined }): void {
  client.once('data', (chunk: Buffer) => {
    record.clientHead = chunk.subarray(0, CLIENT_HEAD_BYTES).toString('latin1');
  });
}

/**
 * The live relays of one balancer, so `close()` can reset them all and wait until every one has
 * finished (each record is final by then).
 */
export class RelaySet {
  /** Each relay with a promise that settles once both of its sockets have closed. */
  private readonly relays = new Map<Relay, Promise<void>>();

  get size(): number {
    return this.relays.size;
  }

  /** Relays `client` ↔ `backend`; `onEnd` runs once, after both sockets have closed. */
  start(client: Socket, backend: TcpSocket, onEnd: (outcome: RelayOutcome, error?: Error) => void, options: RelayOptions = {}): void {
    let ended!: () => void;
    const relay = relayConnection(
      client,
      backend,
      (outcome, error) => {
        this.relays.delete(relay);
        ended();
        onEnd(outcome, error);
      },
      options,
    );
    this.relays.set(relay, new Promise((resolve) => (ended = resolve)));
  }

  /** Resets every live relay both ways; resolves once all of them have ended. */
  async abortAll(): Promise<void> {
    for (const relay of this.relays.keys()) relay.abort();
    await Promise.all(this.relays.values());
  }
}
