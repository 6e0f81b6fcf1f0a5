import { describe, expect, it } from 'vitest';
import { seenAs, tcpFastOpen } from '../../../scenarios/tcp-fast-open.ts';
import { SCENARIOS } from '../../../scenarios/index.ts';
import type { TrafficConnection } from '../../../harness/lab/traffic.ts';
import type { Endpoint } from '../../../harness/checks/backend-log.ts';

const client = { ip: '198.51.100.1', port: 40001 };
const balancer = { ip: '192.0.2.2', port: 50000 };

function connection(peer: Endpoint | undefined, accept: Endpoint | undefined = peer): TrafficConnection {
  return {
    tag: 0,
    result: new Error('unused'),
    record: {
      injectedClient: { address: client.ip, port: client.port },
      balancer: { address: balancer.ip, port: balancer.port },
    } as TrafficConnection['record'],
    logLine: peer && accept ? ({ peer, accept, raw: 'line', path: '/?conn=0' } as unknown as TrafficConnection['logLine']) : undefined,
  };
}

describe('tcp-fast-open: what a log line shows', () => {
  it('client, balancer, mixed (getpeername and accept disagree), other, no line', () => {
    expect(seenAs(connection(client))).toBe('client');
    expect(seenAs(connection(balancer))).toBe('balancer');
    // accept() before the ACK showed the balancer, getpeername() after it the client.
    expect(seenAs(connection(client, balancer))).toBe('mixed');
    expect(seenAs(connection({ ip: '192.0.2.99', port: 63881 }))).toBe('other');
    expect(seenAs(connection(client, { ip: client.ip, port: 1 }))).toBe('other');
    expect(seenAs(connection(undefined))).toBe('no line');
  });

  it('is registered, and runs before malformed-options (the SYN-only shape it contrasts)', () => {
    const ids = SCENARIOS.map((s) => s.id);
    expect(ids).toContain(tcpFastOpen.id);
    expect(ids.indexOf('tcp-fast-open')).toBeLessThan(ids.indexOf('malformed-options'));
  });
});
