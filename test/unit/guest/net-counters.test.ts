import { describe, expect, it } from 'vitest';
import { counterGrowth, parseNetCounters } from '../../../harness/guest/net-counters.ts';

// As a 6.1 guest prints them (cat /proc/net/netstat /proc/net/snmp), shortened.
const NETSTAT = `TcpExt: SyncookiesSent SyncookiesRecv SyncookiesFailed EmbryonicRsts
TcpExt: 6 5 0 0
IpExt: InNoRoutes InTruncatedPkts
IpExt: 0 0
Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens
Tcp: 1 200 120000 -1 0 6
`;

describe('the guest kernel\'s TCP counters', () => {
  it('reads each names/values pair into Group.Name', () => {
    const counters = parseNetCounters(NETSTAT);
    expect(counters.get('TcpExt.SyncookiesSent')).toBe(6);
    expect(counters.get('TcpExt.SyncookiesRecv')).toBe(5);
    expect(counters.get('Tcp.PassiveOpens')).toBe(6);
    expect(counters.get('Tcp.MaxConn')).toBe(-1);
  });

  it('says how much a counter grew, 0 for one the kernel lacks', () => {
    const before = parseNetCounters(NETSTAT);
    const after = parseNetCounters(NETSTAT.replace('TcpExt: 6 5 0 0', 'TcpExt: 12 11 0 0'));
    expect(counterGrowth(before, after, 'TcpExt.SyncookiesSent')).toBe(6);
    expect(counterGrowth(before, after, 'TcpExt.NoSuchCounter')).toBe(0);
  });
});
