import { describe, expect, it } from 'vitest';
import { seenAs, tcpFastOpen } from '../../../scenarios/tcp-fast-open.ts';
import { SCENARIOS } from '../../../scenarios/index.ts';
import { FAKE_BALANCER, FAKE_CLIENT, fakeConnection } from '../../helpers/traffic-connection.ts';

const client = FAKE_CLIENT;
const balancer = FAKE_BALANCER;
const connection = fakeConnection;

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
