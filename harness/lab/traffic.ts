import type { BackendLogRecord, Endpoint } from '../checks/backend-log.ts';
import { formatEndpoint } from '../checks/backend-log.ts';
import { openHttpRequest, type HttpExchange } from '../client/http-client.ts';
import type { BackendServer } from '../guest/backend-server.ts';
import type { FullNatBalancer, FullNatConnectionRecord, ToaPlacement } from '../net/index.ts';
import { check, type Check } from '../core/scenario.ts';
import type { DataPathLab, LabBalancerOptions } from './data-path-lab.ts';

/**
 * One round of traffic through a fresh FULLNAT balancer: N `GET /?conn=i`
 * requests (at most `concurrency` at once), then the backend's log. Every
 * connection is joined end to end by its `conn` tag — our request, the
 * balancer's record of it (the first bytes the client sent; which client it
 * injected, which source port it used), and the backend's log line — so a
 * verdict can say, per connection, whether the guest saw exactly what was
 * injected for it.
 */
export interface TrafficConnection {
  tag: number;
  result: HttpExchange | Error;
  record: FullNatConnectionRecord | undefined;
  logLine: BackendLogRecord | undefined;
}

export interface TrafficRound {
  connections: TrafficConnection[];
  log: BackendLogRecord[];
  /** The simulated clients the balancer put in TOA, one per connection. */
  injectedClients(): Endpoint[];
  /** The balancer's own side of each backend connection (what a backend without TOA sees). */
  balancerEndpoints(): Endpoint[];
  allAnswered(label: string): Check;
  /** Per connection: the log line's getpeername() and accept() both equal `expected(connection)`. */
  eachConnectionSaw(label: string, expected: (connection: TrafficConnection) => Endpoint | undefined): Check;
}

export interface TrafficOptions extends LabBalancerOptions {
  connections: number;
  /** In flight at once (default: all). */
  concurrency?: number;
  /** Send the request and the client's FIN in one write (first data segment may carry FIN). */
  finWithRequest?: boolean;
  /** Which backend in the guest (default the lab's toa-backend on :80): its port, and its log to read. */
  backend?: BackendServer;
  /**
   * Ends the round early: once this resolves, the balancer is closed (every live connection
   * reset both ways), so requests still waiting fail at once instead of at their own timeout.
   * For a scenario that can tell from the guest's evidence that a connection will never
   * complete (e.g. the guest keeps refusing its handshake); `done` aborts when the round ends
   * by itself, so the watcher can stop.
   */
  giveUpWhen?: (balancer: FullNatBalancer, done: AbortSignal) => Promise<void>;
}

/** One way a scenario places TOA: where it goes, and whether the bare handshake ACK is "lost". */
export interface ToaPlacementVariant {
  label: string;
  placement: ToaPlacement[];
  dropHandshakeAck: boolean;
}

export async function runThroughBalancer(lab: DataPathLab, options: TrafficOptions): Promise<TrafficRound> {
  const backend = options.backend ?? lab.backend;
  await backend.clearLog();
  const balancer = await lab.startBalancer({ ...options, backendPort: backend.port });
  const results: Array<HttpExchange | Error> = [];
  let closing: Promise<void> | undefined;
  const closeBalancer = (): Promise<void> => (closing ??= balancer.close());
  const done = new AbortController();
  const watcher = options.giveUpWhen?.(balancer, done.signal).then(closeBalancer, () => {});
  try {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < options.connections) {
        const tag = next++;
        try {
          const open = await openHttpRequest({ port: balancer.port, path: `/?conn=${tag}`, timeoutMs: 120_000, finWithRequest: options.finWithRequest });
          results[tag] = await open.finish();
        } catch (error) {
          results[tag] = error as Error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.concurrency ?? options.connections, options.connections) }, worker));
  } finally {
    done.abort();
    await closeBalancer();
    await watcher;
  }
  const records = [...balancer.records];
  const log = await backend.records();
  // The balancer keeps the first bytes each client sent: the request line carries the tag.
  const recordByTag = new Map(records.flatMap((r) => {
    const tag = conversationTag(r.clientHead ?? '');
    return tag === undefined ? [] : [[tag, r] as const];
  }));
  const lineByTag = new Map(log.flatMap((line) => {
    const tag = conversationTag(line.path);
    return tag === undefined ? [] : [[tag, line] as const];
  }));
  const connections: TrafficConnection[] = results.map((result, tag) => ({
    tag,
    result,
    record: recordByTag.get(tag),
    logLine: lineByTag.get(tag),
  }));

  return {
    connections,
    log,
    injectedClients: () =>
      records.flatMap((r) => (r.injectedClient ? [{ ip: r.injectedClient.address, port: r.injectedClient.port }] : [])),
    balancerEndpoints: () => records.map((r) => ({ ip: r.balancer.address, port: r.balancer.port })),
    allAnswered(label) {
      const failures = connections.filter((c) => c.result instanceof Error || c.result.status !== 200);
      return check(
        `${label}: every request answered 200 through the balancer`,
        failures.length === 0,
        `${connections.length} × 200`,
        failures.length === 0
          ? `${connections.length} × 200`
          : `${failures.length} failed, e.g. ${failures.slice(0, 3).map((f) => describe(f.result)).join('; ')}`,
      );
    },
    eachConnectionSaw(label, expected) {
      const wrong = connections.filter((c) => {
        const want = expected(c);
        return !want || !c.logLine || !sameEndpoint(c.logLine.peer, want) || !sameEndpoint(c.logLine.accept, want);
      });
      const matched = new Set(connections.flatMap((c) => (c.logLine ? [c.logLine] : [])));
      const others = log.filter((line) => !matched.has(line));
      const extra = others.length;
      return check(
        `${label}: each connection's log line (getpeername and accept) names the expected peer`,
        wrong.length === 0 && extra === 0,
        `${connections.length} of ${connections.length} match, no other lines`,
        `${connections.length - wrong.length} of ${connections.length} match, ${wrong.length} mismatches, ${extra} other lines`,
        [
          ...wrong.slice(0, 20).map((c) => {
            const want = expected(c);
            return `conn=${c.tag}: expected ${want ? formatEndpoint(want) : '?'}; log: ${c.logLine?.raw ?? 'no line'}`;
          }),
          // A line no connection of this run claims (seen once on 7.3.4-cloud, never explained): kept as evidence.
          ...others.slice(0, 20).map((line) => `other line: ${line.raw}`),
        ].join('\n') || undefined,
      );
    },
  };
}

/** The `conn=N` tag of a request (its request line, or the path the backend logged). */
function conversationTag(text: string): number | undefined {
  const tag = /[?&]conn=(\d+)/.exec(text)?.[1];
  return tag === undefined ? undefined : Number(tag);
}

/** The endpoint the balancer injected for a connection, as the backend should report it. */
export function injectedEndpoint(connection: TrafficConnection): Endpoint | undefined {
  const client = connection.record?.injectedClient;
  return client ? { ip: client.address, port: client.port } : undefined;
}

/** The balancer's own side of a connection: what a backend without TOA reports. */
export function balancerEndpoint(connection: TrafficConnection): Endpoint | undefined {
  const record = connection.record;
  return record ? { ip: record.balancer.address, port: record.balancer.port } : undefined;
}

export function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  return a.ip === b.ip && a.port === b.port;
}

function describe(result: HttpExchange | Error): string {
  return result instanceof Error ? result.message : `status ${result.status}`;
}
