import { describe, expect, it } from 'vitest';
import { countOpenConnectionsIn, findConnectionIn } from '../../../harness/guest/tcp-sockets.ts';

// Rows as Linux prints /proc/net/tcp: a listener on :80 (0A), two established (01), one on :8080.
const PROC_NET_TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1234 1 0000000000000000 100 0 0 10 0
   1: 0A0200C0:0050 020200C0:D431 01 00000000:00000000 00:00000000 00000000     0        0 1235 1 0000000000000000 20 4 30 10 -1
   2: 0A0200C0:0050 020200C0:D432 01 00000000:00000000 00:00000000 00000000     0        0 1236 1 0000000000000000 20 4 30 10 -1
   3: 0A0200C0:1F90 020200C0:D433 01 00000000:00000000 00:00000000 00000000     0        0 1237 1 0000000000000000 20 4 30 10 -1
   4: 0A0200C0:0050 020200C0:D434 06 00000000:00000000 03:00000000 00000000     0        0 0 3 0000000000000000`;

describe('countOpenConnectionsIn', () => {
  it('counts ESTABLISHED and CLOSE_WAIT rows on the local port only', () => {
    expect(countOpenConnectionsIn(PROC_NET_TCP, 80)).toBe(2);
    expect(countOpenConnectionsIn(PROC_NET_TCP.replace(':D432 01', ':D432 08'), 80)).toBe(2);
    expect(countOpenConnectionsIn(PROC_NET_TCP.replace(':D432 01', ':D432 06'), 80)).toBe(1);
    expect(countOpenConnectionsIn(PROC_NET_TCP, 8080)).toBe(1);
    expect(countOpenConnectionsIn(PROC_NET_TCP, 443)).toBe(0);
  });
});

describe('findConnectionIn', () => {
  // A request socket as Linux lists it: SYN_RECV (03), the SYN-ACK timer (01) running, resent twice.
  const HALF_OPEN = `${PROC_NET_TCP}
   5: 0A0200C0:0050 020200C0:D435 03 00000000:00000000 01:00000153 00000002     0        0 0 1 0000000000000000`;

  it("finds the peer's row, its state and the guest's SYN-ACK resends", () => {
    const found = findConnectionIn(HALF_OPEN, 80, { ip: '192.0.2.2', port: 0xd435 });
    expect(found).toMatchObject({ state: 'SYN_RECV', retransmits: 2 });
    expect(found?.row).toMatch(/^5: /);
    expect(findConnectionIn(HALF_OPEN, 80, { ip: '192.0.2.2', port: 0xd431 })?.state).toBe('ESTABLISHED');
    expect(findConnectionIn(HALF_OPEN, 80, { ip: '192.0.2.2', port: 0xd434 })?.state).toBe('other'); // TIME_WAIT
  });

  it('ignores other peers and other local ports', () => {
    expect(findConnectionIn(HALF_OPEN, 80, { ip: '192.0.2.2', port: 0xd436 })).toBeUndefined();
    expect(findConnectionIn(HALF_OPEN, 80, { ip: '192.0.2.3', port: 0xd435 })).toBeUndefined();
    expect(findConnectionIn(HALF_OPEN, 8080, { ip: '192.0.2.2', port: 0xd435 })).toBeUndefined();
  });
});
