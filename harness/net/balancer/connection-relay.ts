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
  let outcome: RelayOutcome | undefined;
  let cause: Error | undefined;
  let openSockets = 2;
  const settle = (result: RelayOutcome, error?: Error): void => {
    if (outcome !== undefined) return;
    outcome = result;
    cause = error;
  };
  const onClose = (): void => {
    if (--openSockets === 0) onEnd(outcome ?? 'closed', cause);
  };

  if (options.holdClientDataUntilFin) forwardHoldingUntilFin(client, backend);
  else forward(client, backend);
  forward(backend, client);

  client.on('error', (error: NodeJS.ErrnoException) => {
    settle(error.code === 'ECONNRESET' ? 'client-reset' : 'client-error', error);
    backend.destroy(); // → RST to the backend
  });
  backend.on('error', (error: Error & { code?: TcpErrorCode }) => {
    settle((error.code && OUTCOME_BY_TCP_ERROR[error.code]) ?? 'backend-error', error);
    if (!client.destroyed) client.resetAndDestroy();
  });
  client.on('close', onClose);
  backend.on('close', onClose);

  return {
    abort() {
      settle('balancer-closed');
      backend.destroy();
      if (!client.destroyed) client.resetAndDestroy();
    },
  };
}
