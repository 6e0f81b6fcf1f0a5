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

/** A live relay, and who waits for its end (only `abortAll` does). */
interface LiveRelay {
  relay: Relay;
  onEnded: (() => void) | undefined;
}

/**
 * The live relays of one balancer, so `close()` can reset them all and wait until every one has
 * finished (each record is final by then). A relay's end is awaited only when it is aborted: no
 * promise per connection.
 */
export class RelaySet {
  private readonly relays = new Set<LiveRelay>();

  get size(): number {
    return this.relays.size;
  }

  /** Relays `client` ↔ `backend`; `onEnd` runs once, after both sockets have closed. */
  start(client: Socket, backend: TcpSocket, onEnd: (outcome: RelayOutcome, error?: Error) => void, options: RelayOptions = {}): void {
    const live: LiveRelay = {
      // Its end comes after both sockets have closed, long after `live` is set.
      relay: relayConnection(
        client,
        backend,
        (outcome, error) => {
          this.relays.delete(live);
          live.onEnded?.();
          onEnd(outcome, error);
        },
        options,
      ),
      onEnded: undefined,
    };
    this.relays.add(live);
  }

  /** Resets every live relay both ways; resolves once all of them have ended. */
  async abortAll(): Promise<void> {
    const live = [...this.relays];
    const ended = live.map((entry) => new Promise<void>((resolve) => (entry.onEnded = resolve)));
    for (const entry of live) entry.relay.abort();
    await Promise.all(ended);
  }
}
