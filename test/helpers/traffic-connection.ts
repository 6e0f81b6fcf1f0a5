import type { Endpoint } from '../../harness/checks/backend-log.ts';
import type { TrafficConnection } from '../../harness/lab/traffic.ts';

/** The client and balancer every fake connection below names. */
export const FAKE_CLIENT = { ip: '198.51.100.1', port: 40001 };
export const FAKE_BALANCER = { ip: '192.0.2.2', port: 50000 };

/** One connection of a traffic round, as the scenarios' classifiers read it: the balancer's record and the backend's log line (getpeername, accept). */
export function fakeConnection(peer: Endpoint | undefined, accept: Endpoint | undefined = peer): TrafficConnection {
  return {
    tag: 0,
    result: new Error('unused'),
    record: {
      injectedClient: { address: FAKE_CLIENT.ip, port: FAKE_CLIENT.port },
      balancer: { address: FAKE_BALANCER.ip, port: FAKE_BALANCER.port },
    } as TrafficConnection['record'],
    logLine: peer && accept ? ({ peer, accept, raw: 'line', path: '/?conn=0' } as unknown as TrafficConnection['logLine']) : undefined,
  };
}
