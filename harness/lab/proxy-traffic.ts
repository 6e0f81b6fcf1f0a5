import type { ProxyBackendLog, ProxyRequestLine } from '../checks/proxy-backend-log.ts';
import { httpRequest, type HttpExchange } from '../client/http-client.ts';
import type { ProxyBackend } from '../guest/proxy-backends.ts';
import type { FullNatConnectionRecord, ProxyProtocolSettings, SimulatedClient } from '../net/index.ts';
import type { DataPathLab } from './data-path-lab.ts';

/**
 * One round of PROXY protocol traffic to one backend in the guest: its logs emptied, then one or
 * more legs — each a fresh balancer with its own header settings (and source address) sending
 * `GET /?conn=N` requests one at a time — then the backend's log, read once. Tags run across the
 * legs, so each request line is joined to the connection that sent it; a refused header leaves
 * no request line, only the backend's refusal.
 */
export interface ProxyLeg {
  /** For evidence: what this leg sends. */
  label: string;
  proxyProtocol: ProxyProtocolSettings;
  connections: number;
  /** The balancer's source address (default the balancer's; SPOOFER_ADDRESS plays a host that is not it). */
  address?: string;
  /** The client the header names for the leg's n-th connection (default: the balancer's cycle). */
  chooseClient?: (connectionIndex: number) => SimulatedClient;
}

export interface ProxyConnection {
  tag: number;
  leg: ProxyLeg;
  result: HttpExchange | Error;
  record: FullNatConnectionRecord | undefined;
  /** The backend's request line for this tag, if it logged one. */
  line: ProxyRequestLine | undefined;
}

export interface ProxyRound {
  backend: ProxyBackend;
  connections: ProxyConnection[];
  log: ProxyBackendLog & { raw: string };
}

/** A refused header gets no answer; the backend closes at once, so a short limit only bounds a backend that waits. */
const REQUEST_TIMEOUT_MS = 30_000;

export async function runProxyRound(lab: DataPathLab, backend: ProxyBackend, legs: readonly ProxyLeg[]): Promise<ProxyRound> {
  await backend.clearLogs();
  const connections: ProxyConnection[] = [];
  let tag = 0;
  for (const leg of legs) {
    const balancer = await lab.startBalancer({
      toa: false,
      backendPort: backend.port,
      proxyProtocol: leg.proxyProtocol,
      ...(leg.address && { address: leg.address }),
      ...(leg.chooseClient && { chooseClient: leg.chooseClient }),
    });
    const sent: Array<Omit<ProxyConnection, 'record' | 'line'>> = [];
    try {
      for (let i = 0; i < leg.connections; i++) {
        const request = tag++;
        const result = await httpRequest({ port: balancer.port, path: `/?conn=${request}`, timeoutMs: REQUEST_TIMEOUT_MS }).catch((e: Error) => e);
        sent.push({ tag: request, leg, result });
      }
    } finally {
      await balancer.close();
    }
    // One connection at a time, so the balancer's records are in the order the requests were sent.
    sent.forEach((c, i) => connections.push({ ...c, record: balancer.records[i], line: undefined }));
  }
  const log = await readSettledLog(backend, connections);
  const byTag = new Map(log.requests.flatMap((line) => (line.tag === undefined ? [] : [[line.tag, line] as const])));
  for (const connection of connections) connection.line = byTag.get(connection.tag);
  return { backend, connections, log };
}

/**
 * The backend's log once every answered request has its line: HAProxy writes a request's line
 * as the stream ends, which can come a moment after the client read the response. Up to ~5 s;
 * a line still missing then is a missing line.
 */
async function readSettledLog(backend: ProxyBackend, connections: readonly ProxyConnection[]): Promise<ProxyRound['log']> {
  const answeredTags = connections.filter(answered).map((c) => c.tag);
  for (let attempt = 0; ; attempt++) {
    const log = await backend.readLog();
    const logged = new Set(log.requests.map((line) => line.tag));
    if (answeredTags.every((tag) => logged.has(tag)) || attempt >= 20) return log;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export function answered(connection: ProxyConnection): boolean {
  return !(connection.result instanceof Error) && connection.result.status === 200;
}

export function describeResult(result: HttpExchange | Error): string {
  return result instanceof Error ? result.message : `status ${result.status}`;
}
