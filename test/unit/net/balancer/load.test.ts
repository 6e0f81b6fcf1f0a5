import { describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { FullNatBalancer } from '../../../../harness/net/balancer/fullnat.ts';
import { createSimulatedClientCycle, SIMULATED_CLIENT_PAIRS_IPV4 } from '../../../../harness/net/balancer/simulated-clients.ts';
import { findToaOption, type ToaAddress } from '../../../../harness/net/codec/toa-option.ts';
import { NetworkHost } from '../../../../harness/net/stack/network-host.ts';
import { createMemoryWirePair } from '../../../../harness/net/wire/memory-wire.ts';
import { decodeTcpFrame, SERVER_IP, SERVER_MAC, until } from '../helpers/lab-pair.ts';

/**
 * What the `load` scenario does to the real guest — 10,000 connections, 200 at a time, each
 * with its own simulated client — against a userspace peer, so any limit in the stack (ports,
 * TIME-WAIT, neighbour queue, records) shows up here first.
 */
const CONNECTIONS = 10_000;
const CONCURRENCY = 200;

describe('load: 10,000 FULLNAT connections, 200 concurrent', () => {
  it('the simulated client (address, port) pair never repeats within a run', () => {
    const pick = createSimulatedClientCycle();
    const pairs = new Set(Array.from({ length: CONNECTIONS }, (_, i) => `${pick(i).address}:${pick(i).port}`));
    expect(pairs.size).toBe(CONNECTIONS);
    // Addresses cycle every 508, ports every 25,000: a pair comes back after their lcm, not before.
    const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
    expect((508 * 25_000) / gcd(508, 25_000)).toBe(SIMULATED_CLIENT_PAIRS_IPV4);
    expect(pick(SIMULATED_CLIENT_PAIRS_IPV4)).toEqual(pick(0));
    const pick6 = createSimulatedClientCycle({ family: 6 });
    expect(new Set(Array.from({ length: CONNECTIONS }, (_, i) => `${pick6(i).address}:${pick6(i).port}`)).size).toBe(CONNECTIONS);
  });

  it('every connection reaches the peer with its own TOA client', async () => {
    const [balancerWire, peerWire] = createMemoryWirePair();
    // The peer notes the TOA of each connection (keyed by the balancer's port) from the segments
    // it receives, like toa.ko, and answers with a one-line response.
    const toaByBalancerPort = new Map<number, ToaAddress>();
    const peer = new NetworkHost({
      wire: peerWire,
      mac: SERVER_MAC,
      addresses: SERVER_IP,
      tcp: { timeWaitMs: 500 },
      tap: (frame, direction) => {
        if (direction !== 'in') return;
        const decoded = decodeTcpFrame(frame);
        const toa = decoded && findToaOption(decoded.tcp.options);
        if (toa && !toaByBalancerPort.has(decoded.tcp.sourcePort)) toaByBalancerPort.set(decoded.tcp.sourcePort, toa);
      },
    });
    let accepted = 0;
    peer.listen({ port: 80 }, (socket) => {
      accepted++;
      socket.on('error', () => {});
      socket.once('data', () => socket.end('HTTP/1.0 200 OK\r\n\r\nok'));
    });
    const balancer = await FullNatBalancer.start({ wire: balancerWire });
    let failures = 0;
    let started = 0;
    const request = (): Promise<void> =>
      new Promise((resolve) => {
        const socket = connect({ host: '127.0.0.1', port: balancer.port, noDelay: true });
        let reply = '';
        socket.on('data', (chunk: Buffer) => (reply += chunk));
        socket.on('error', () => {});
        socket.on('close', () => {
          if (!reply.endsWith('ok')) failures++;
          resolve();
        });
        socket.end('GET / HTTP/1.0\r\n\r\n');
      });
    const worker = async (): Promise<void> => {
      while (started < CONNECTIONS) {
        started++;
        await request();
      }
    };
    try {
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      await until(() => balancer.records.every((r) => r.outcome !== 'open'), 5000, 'the last records to close');
      expect(failures).toBe(0);
      expect(accepted).toBe(CONNECTIONS);
      expect(balancer.records).toHaveLength(CONNECTIONS);
      const pick = createSimulatedClientCycle();
      const mismatches = balancer.records.filter((record) => {
        const seen = toaByBalancerPort.get(record.balancer.port);
        const expected = pick(record.id - 1);
        return (
          record.outcome !== 'closed' ||
          record.injectedClient?.address !== expected.address ||
          record.injectedClient.port !== expected.port ||
          seen?.address !== expected.address ||
          seen.port !== expected.port
        );
      });
      expect(mismatches).toEqual([]);
      expect(new Set(balancer.records.map((r) => r.balancer.port)).size).toBe(CONNECTIONS);
      expect(peer.stats.dropped).toMatchObject({ malformed: 0, 'bad-tcp-checksum': 0 });
    } finally {
      await balancer.close();
      peer.close();
    }
  }, 30_000);
});
