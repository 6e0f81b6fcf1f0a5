import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TcpErrorCode } from '../stack/tcp-errors.ts';
import type { TcpSocket } from '../stack/tcp-socket.ts';

/** How a relayed connection ended, from the balancer's point of view. */
export type RelayOutcome =
  | 'closed' // both sides finished normally (FIN both ways)
  | 'client-reset' // the client sent RST; the backend got RST from us
  | 'client-error' // another error on the client socket; the backend got RST
  | 'backend-reset' // the backend sent RST; the client got RST from us
  | 'backend-refused' // RST in answer to our SYN (nothing listening on the backend port)
  | 'backend-timeout' // retransmissions exhausted
  | 'backend-unreachable' // no ARP answer from the backend
  | 'backend-error' // any other failure of the userspace connection
  | 'balancer-closed'; // torn down by FullNatBalancer.close()

const OUTCOME_BY_TCP_ERROR: Partial<Record<TcpErrorCode, RelayOutcome>> = {
  ECONNRESET: 'backend-reset',
  ECONNREFUSED: 'backend-refused',
  ETIMEDOUT: 'backend-timeout',
  EHOSTUNREACH: 'backend-unreachable',
};

/**
 * One direction of the relay: what `pipe` does, minus the bookkeeping it needs for multiple
 * destinations and unpiping — a measurable share of a short connection's cost.
 */
function forward(from: Duplex, to: Duplex): void {
  from.on('data', (chunk: Buffer) => {
    if (!to.write(chunk)) from.pause();
  });
  to.on('drain', () => from.resume());
  from.on('end', () => to.end());
}

/** The most client bytes held back waiting for the client's FIN before relaying normally. */
export const MAX_HELD_CLIENT_BYTES = 64 * 1024;

/**
 * Client → backend, holding the client's bytes until it half-closes, then sending them with our
 * FIN in one step (`TcpSocket.endWith`): the first data segment carries FIN whatever the
 * handshake's timing. A client that sends more than `MAX_HELD_CLIENT_BYTES` before its FIN is
 * relayed as a stream from then on.
 */
function forwardHoldingUntilFin(from: Duplex, to: TcpSocket): void {
  let held: Buffer[] | undefined = [];
  let heldBytes = 0;
  from.on('data', (chunk: Buffer) => {
    if (held) {
      held.push(chunk);
      heldBytes += chunk.length;
      if (heldBytes <= MAX_HELD_CLIENT_BYTES) return;
      chunk = Buffer.concat(held);
      held = undefined;
    }
    if (!to.write(chunk)) from.pause();
  });
  to.on('drain', () => from.resume());
  from.on('end', () => {
    if (held) to.endWith(Buffer.concat(held));
    else to.end();
  });
}

export interface RelayOptions {
  /** Hold the client's bytes until its FIN and send them together (see `forwardHoldingUntilFin`). */
  holdClientDataUntilFin?: boolean;
  /**
   * Bytes the backend gets before anything the client sent (a PROXY protocol header), written
   * before the client's first byte can be, so nothing overtakes them.
   */
  prefix?: Uint8Array;
  /**
   * With `prefix`: end the backend connection right after it (its bytes and our FIN together),
   * and drop whatever the client sends — a balancer that died mid-header.
   */
  endAfterPrefix?: boolean;
}

export interface Relay {
  /** Tears both sides down with RST; the outcome becomes `balancer-closed`. */
  abort(): void;
}

/**
 * Relays bytes between a client's node socket and the userspace connection to the backend.
 *
 * - Data: `pipe` both ways, so each side pauses when the other cannot take more (the userspace
 *   side's readiness is its send buffer; its own receive window then shrinks in turn).
 * - FIN: `pipe` ends the other side when one side ends; both sockets allow half-open, so a
 *   client that half-closes still gets the whole response.
 * - RST: a reset (or error) on either side resets the other.
 * `onEnd` runs once, after both sockets have closed.
 */
export function relayConnection(
  client: Socket,
  backend: TcpSocket,
  onEnd: (outcome: RelayOutcome, error?: Error) => void,
  options: RelayOptions = {},
): Relay {
  const relay = new ConnectionRelay(client, backend, onEnd);
  if (options.prefix && options.endAfterPrefix) {
    backend.endWith(options.prefix);
    client.resume(); // read and dropped, so the client's FIN is still seen
  } else {
    if (options.prefix) backend.write(options.prefix);
    if (options.holdClientDataUntilFin) forwardHoldingUntilFin(client, backend);
    else forward(client, backend);
  }
  forward(backend, client);
  client.on('error', (error: NodeJS.ErrnoException) => relay.clientFailed(error));
  backend.on('error', (error: Error & { code?: TcpErrorCode }) => relay.backendFailed(error));
  client.on('close', () => relay.socketClosed());
  backend.on('close', () => relay.socketClosed());
  return relay;
}

/**
 * The state of one relayed connection: the first outcome wins, `onEnd` runs when the second
 * socket has closed. A class rather than closures in `relayConnection`: tsx names every named
 * closure at run time, per connection.
 */
class ConnectionRelay implements Relay {
  private outcome: RelayOutcome | undefined;
  private cause: Error | undefined;
  private openSockets = 2;

  constructor(
    private readonly client: Socket,
    private readonly backend: TcpSocket,
    private readonly onEnd: (outcome: RelayOutcome, error?: Error) => void,
  ) {}

  clientFailed(error: NodeJS.ErrnoException): void {
    this.settle(error.code === 'ECONNRESET' ? 'client-reset' : 'client-error', error);
    this.backend.destroy(); // → RST to the backend
  }

  backendFailed(error: Error & { code?: TcpErrorCode }): void {
    this.settle((error.code && OUTCOME_BY_TCP_ERROR[error.code]) ?? 'backend-error', error);
    if (!this.client.destroyed) this.client.resetAndDestroy();
  }

  socketClosed(): void {
    if (--this.openSockets === 0) this.onEnd(this.outcome ?? 'closed', this.cause);
  }

  abort(): void {
    this.settle('balancer-closed');
    this.backend.destroy();
    if (!this.client.destroyed) this.client.resetAndDestroy();
  }

  private settle(result: RelayOutcome, error?: Error): void {
    if (this.outcome !== undefined) return;
    this.outcome = result;
    this.cause = error;
  }
}
