import { parseNginxCombinedLog } from '../checks/nginx-access-log.ts';
import { parsePythonHttpServerLog, type AccessLogRecord } from '../checks/python-http-server-log.ts';
import { clientIpsMatch } from '../checks/client-ip-match.ts';
import { httpRequest, type HttpExchange } from '../client/http-client.ts';
import type { BalancerToaSettings, FullNatConnectionRecord } from '../net/index.ts';
import { readGuestFile, shellQuote } from '../remote/guest-shell.ts';
import { check, type Check } from '../core/scenario.ts';
import { NGINX_ACCESS_LOG, PYTHON_ACCESS_LOG } from '../toa/install-guide-steps.ts';
import type { GuestLab } from '../machine/machine.ts';

/**
 * Traffic through a fresh FULLNAT balancer to one of the guest's backends,
 * then the verdict from that backend's own access log:
 * - with TOA and toa.ko loaded, each line names the simulated client;
 * - without toa.ko, each line names the balancer (192.0.2.2).
 */
export interface GuestBackend {
  label: string;
  port: number;
  accessLog: string;
  parse: (text: string) => AccessLogRecord[];
}

export function pythonBackend(port: number): GuestBackend {
  return { label: `python3 -m http.server :${port}`, port, accessLog: PYTHON_ACCESS_LOG, parse: parsePythonHttpServerLog };
}

export function nginxBackend(port: number): GuestBackend {
  return { label: `nginx :${port}`, port, accessLog: NGINX_ACCESS_LOG, parse: parseNginxCombinedLog };
}

export interface AccessLogRound {
  exchanges: Array<HttpExchange | Error>;
  connections: FullNatConnectionRecord[];
  log: AccessLogRecord[];
  checks: Check[];
}

export async function sendThroughBalancer(
  lab: GuestLab,
  backend: GuestBackend,
  options: { connections: number; toa: BalancerToaSettings | false; expect: 'simulated-clients' | 'balancer' },
): Promise<AccessLogRound> {
  await lab.guest.check(`: > ${shellQuote(backend.accessLog)}`);
  const balancer = await lab.startBalancer({ port: backend.port, toa: options.toa });
  let exchanges: Array<HttpExchange | Error>;
  try {
    // One at a time: python's http.server is single-threaded, and the order makes the log easy to read.
    exchanges = [];
    for (let i = 0; i < options.connections; i++) {
      exchanges.push(await httpRequest({ port: balancer.port, path: '/', timeoutMs: 60_000 }).catch((e: Error) => e));
    }
  } finally {
    await balancer.close();
  }
  const connections = [...balancer.records];
  const log = backend.parse(await readGuestFile(lab.guest, backend.accessLog, { timeoutMs: 120_000 }));
  const expected =
    options.expect === 'simulated-clients'
      ? connections.map((c) => c.injectedClient?.address ?? '(no TOA sent)')
      : connections.map((c) => c.balancer.address);
  const failures = exchanges.filter((e) => e instanceof Error || e.status !== 200);
  return {
    exchanges,
    connections,
    log,
    checks: [
      check(
        `${backend.label}: every request answered 200 through the balancer`,
        failures.length === 0,
        `${exchanges.length} × 200`,
        failures.length === 0 ? `${exchanges.length} × 200` : `${failures.length} failed: ${failures.map(describe).join('; ')}`,
      ),
      clientIpsMatch(
        `${backend.label}: the access log names ${options.expect === 'simulated-clients' ? 'the simulated clients' : 'the balancer'}`,
        expected,
        log,
      ),
    ],
  };
}

function describe(result: HttpExchange | Error): string {
  return result instanceof Error ? result.message : `status ${result.status}`;
}
