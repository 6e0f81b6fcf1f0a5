import type { BackendLogRecord, Endpoint } from '../checks/backend-log.ts';
import { httpRequest, type HttpExchange } from '../client/http-client.ts';
import type { FullNatConnectionRecord } from '../net/index.ts';
import { check, type Check } from '../runner/scenario.ts';
import type { LabBalancerOptions, MicroLab } from './micro-lab.ts';

/**
 * One round of traffic through a fresh FULLNAT balancer: N concurrent
 * `GET /` requests, then the backend's log of exactly those connections.
 */
export interface TrafficRound {
  exchanges: Array<HttpExchange | Error>;
  connections: FullNatConnectionRecord[];
  log: BackendLogRecord[];
  /** The simulated clients the balancer put in TOA, one per connection. */
  injectedClients(): Endpoint[];
  /** The balancer's own side of each backend connection (what a backend without TOA sees). */
  balancerEndpoints(): Endpoint[];
  allAnswered(label: string): Check;
}

export async function runThroughBalancer(
  lab: MicroLab,
  options: LabBalancerOptions & { connections: number; path?: string },
): Promise<TrafficRound> {
  await lab.backend.clearLog();
  const balancer = await lab.startBalancer(options);
  let exchanges: Array<HttpExchange | Error>;
  try {
    exchanges = await Promise.all(
      Array.from({ length: options.connections }, () =>
        httpRequest({ port: balancer.port, path: options.path ?? '/', timeoutMs: 60_000 }).catch((e: Error) => e),
      ),
    );
  } finally {
    await balancer.close();
  }
  const connections = [...balancer.records];
  const log = await lab.backend.records();
  return {
    exchanges,
    connections,
    log,
    injectedClients: () => connections.flatMap((c) => (c.injectedClient ? [{ ip: c.injectedClient.address, port: c.injectedClient.port }] : [])),
    balancerEndpoints: () => connections.map((c) => ({ ip: c.balancer.address, port: c.balancer.port })),
    allAnswered(label) {
      const failures = exchanges.filter((e) => e instanceof Error || e.status !== 200);
      return check(
        `${label}: every request answered 200 through the balancer`,
        failures.length === 0,
        `${exchanges.length} × 200`,
        failures.length === 0 ? `${exchanges.length} × 200` : `${failures.length} failed: ${failures.map(describe).join('; ')}`,
      );
    },
  };
}

function describe(result: HttpExchange | Error): string {
  return result instanceof Error ? result.message : `status ${result.status}`;
}
