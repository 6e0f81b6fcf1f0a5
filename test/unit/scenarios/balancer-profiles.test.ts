import { describe, expect, it } from 'vitest';
import { readingOf } from '../../../scenarios/balancer-profiles.ts';
import { SHAPES } from '../../../scenarios/malformed-options.ts';
import { balancerProfile } from '../../../harness/net/balancer/balancer-profiles.ts';
import type { TrafficConnection } from '../../../harness/lab/traffic.ts';
import type { Endpoint } from '../../../harness/checks/backend-log.ts';

/** A connection as runThroughBalancer joins it: the balancer's record and the guest's log line. */
function connection(peer: Endpoint | undefined, accept: Endpoint | undefined = peer): TrafficConnection {
  return {
    tag: 0,
    result: new Error('unused'),
    record: {
      injectedClient: { address: '198.51.100.1', port: 40001 },
      balancer: { address: '192.0.2.2', port: 50000 },
    } as TrafficConnection['record'],
    logLine: peer && accept ? ({ peer, accept, local: { ip: '192.0.2.10', port: 80 }, raw: 'line', path: '/?conn=0' } as unknown as TrafficConnection['logLine']) : undefined,
  };
}

describe('balancer-profiles: what the backend log says the module made of a profile', () => {
  const client = { ip: '198.51.100.1', port: 40001 };
  const balancer = { ip: '192.0.2.2', port: 50000 };

  it('read: the client; ignored: the balancer; misread: anything else; no line: no connection', () => {
    const lvs = balancerProfile('lvs-v4');
    expect(readingOf(lvs, connection(client))).toBe('read');
    expect(readingOf(lvs, connection(balancer))).toBe('ignored');
    expect(readingOf(lvs, connection({ ip: '198.51.100.1', port: 1 }))).toBe('misread');
    expect(readingOf(lvs, connection(undefined))).toBe('no-connection');
  });

  it('a format without a port compares the address alone', () => {
    expect(readingOf(balancerProfile('alibaba-cdn-v4'), connection({ ip: '198.51.100.1', port: 0 }))).toBe('read');
  });

  it('a format that names no client is never "read": the VIP taken for a client is a misread', () => {
    const vip = balancerProfile('tencent-vip-vport');
    expect(readingOf(vip, connection(client))).toBe('misread');
    expect(readingOf(vip, connection({ ip: '192.0.2.100', port: 80 }))).toBe('misread');
    expect(readingOf(vip, connection(balancer))).toBe('ignored');
  });

  it('getpeername and accept must agree', () => {
    expect(readingOf(balancerProfile('lvs-v4'), connection(client, balancer))).toBe('misread');
  });
});

describe('malformed-options: "a kind the module was not told to accept" follows the declared kinds', () => {
  const shape = SHAPES.find((s) => s.name === 'a kind the module was not told to accept')!;
  const client = { address: '198.51.100.1', port: 40001 };

  it('a module accepting 200, 253 and 254 by design is probed with 250, not with 200', () => {
    expect(shape.bytes(client, 200, [200, 253, 254])[0]).toBe(250);
  });

  it('without declared kinds, the module is taken to accept the kind the balancer sends (as before module specs)', () => {
    expect(shape.bytes(client, 254)[0]).toBe(200);
    expect(shape.bytes(client, 200)[0]).toBe(254);
  });
});
