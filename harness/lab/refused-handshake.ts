import type { BackendLogRecord } from '../checks/backend-log.ts';
import { findBalancerConnection, type GuestTcpRow } from '../guest/tcp-sockets.ts';
import type { FullNatBalancer, FullNatConnectionRecord } from '../net/index.ts';
import type { DataPathLab } from './data-path-lab.ts';

/**
 * When the guest's own TCP refuses every segment that carries an option shape (Linux ≥ 7.2
 * drops a segment whose options run past the header or hold a length-0 option), a
 * connection never completes; the balancer would give up only after its 8 retransmissions
 * (~33 s a connection, measured on 7.2 and 7.3). The guest shows the refusal much sooner,
 * in one of two ways, depending on which of the balancer's segments reaches it first
 * (both seen on 7.3 in the same run):
 *
 * - the handshake stays half open: SYN_RECV, the guest resending its SYN-ACK while every
 *   ACK the balancer answers with (carrying the shape) is thrown away. Linux resends at
 *   1 s and 3 s; by the second resend the guest has refused at least two ACKs and the
 *   first data segment (lossless wire), so REFUSED_AFTER_SYN_ACK_RESENDS = 2.
 * - the handshake completes on the balancer's FIN (which carries no TOA), but the first
 *   data segment, carrying the shape, never gets in: ESTABLISHED, the request never
 *   arriving. The balancer resends it at 1 s and 3 s; after ESTABLISHED_REFUSAL_MS the
 *   connection is closed and toa-backend's own log line for it (method "-", 0 request
 *   bytes: not one byte of the request reached the socket) is the guest's evidence.
 *
 * A shape the guest takes completes in milliseconds on every kernel measured (5.10–7.3),
 * long before the first look at 1 s.
 */
export const REFUSED_AFTER_SYN_ACK_RESENDS = 2;
export const ESTABLISHED_REFUSAL_MS = 4000;
const FIRST_LOOK_MS = 1000;
const POLL_MS = 500;

/** What the guest showed for a refused connection. */
export interface RefusalEvidence {
  /** The guest's /proc/net/tcp row when the round was ended. */
  row?: GuestTcpRow;
  /** The balancer's side of the connection (to find toa-backend's line for it). */
  connection?: FullNatConnectionRecord;
}

/**
 * For `runThroughBalancer`'s `giveUpWhen` with one connection per round: resolves (ending
 * the round) once the guest shows either pattern above, recording the row in `evidence`.
 */
export function whenGuestRefusesConnection(lab: DataPathLab, evidence: RefusalEvidence) {
  return async (balancer: FullNatBalancer, done: AbortSignal): Promise<void> => {
    await pause(FIRST_LOOK_MS, done);
    let establishedSince: number | undefined;
    for (;;) {
      const record = balancer.records[0];
      if (record) {
        // A look that fails (a busy guest's agent) is only a missed look: try again next poll.
        const row = await findBalancerConnection(lab.guest, lab.backend.port, { ip: record.balancer.address, port: record.balancer.port }).catch(() => undefined);
        if (done.aborted) throw done.reason;
        if (row?.state === 'SYN_RECV' && row.retransmits >= REFUSED_AFTER_SYN_ACK_RESENDS) {
          Object.assign(evidence, { row, connection: record });
          return;
        }
        if (row?.state === 'ESTABLISHED') {
          establishedSince ??= Date.now();
          if (Date.now() - establishedSince >= ESTABLISHED_REFUSAL_MS - FIRST_LOOK_MS) {
            Object.assign(evidence, { row, connection: record });
            return;
          }
        } else {
          establishedSince = undefined;
        }
      }
      await pause(POLL_MS, done);
    }
  };
}

/**
 * toa-backend's own line for a connection the round ended: accepted, and not one byte of the
 * request arrived (method "-", 0 request bytes). Matched by the balancer's port, as the
 * backend sees it when no TOA was taken.
 */
export async function backendSawNoRequest(lab: DataPathLab, connection: FullNatConnectionRecord): Promise<BackendLogRecord | undefined> {
  // The backend writes its line once the balancer's reset wakes it; give a busy guest a moment.
  for (let look = 0; look < 10; look++) {
    const line = (await lab.backend.records()).find((r) => r.peer.port === connection.balancer.port && r.peer.ip === connection.balancer.address);
    if (line) return line.method === '-' && line.requestBytes === 0 ? line : undefined;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  return undefined;
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}
