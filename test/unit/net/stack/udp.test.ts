import { afterEach, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import type { UdpRemoteInfo } from '../../../../harness/net/stack/udp-socket.ts';
import { CLIENT_IP, CLIENT_IP6, createLabPair, SERVER_IP, SERVER_IP6, until, type LabPair } from '../helpers/lab-pair.ts';

describe('UDP on the userspace host', () => {
  let lab: LabPair | undefined;
  afterEach(() => lab?.close());

  for (const [family, client, server] of [
    ['IPv4', CLIENT_IP, SERVER_IP],
    ['IPv6', CLIENT_IP6, SERVER_IP6],
  ] as const) {
    it(`sends and receives datagrams over ${family}, resolving the peer first`, async () => {
      lab = createLabPair({ clientAddresses: [client], serverAddresses: [server] });
      const echo = lab.server.bindUdp({ port: 7 });
      echo.on('message', (data, from) => echo.send(Buffer.concat([Buffer.from('echo:'), data]), from.port, from.address));
      const socket = lab.client.bindUdp();
      expect(socket.localPort).toBeGreaterThanOrEqual(49152);
      const reply = once(socket, 'message') as Promise<[Buffer, UdpRemoteInfo]>;
      socket.send(Buffer.from('hi'), 7, server);
      const [data, from] = await reply;
      expect(data.toString()).toBe('echo:hi');
      expect(from).toEqual({ address: server, port: 7, family: family === 'IPv4' ? 4 : 6, localAddress: client });
      expect(socket.counters).toEqual({ datagramsSent: 1, bytesSent: 2, datagramsReceived: 1, bytesReceived: 7 });
    });
  }

  it('delivers to an address-bound socket before a wildcard one, and counts closed ports', async () => {
    lab = createLabPair({ serverAddresses: [SERVER_IP, '192.0.2.11'] });
    const specific = lab.server.bindUdp({ port: 53, address: '192.0.2.11' });
    const wildcard = lab.server.bindUdp({ port: 53 });
    const got: string[] = [];
    specific.on('message', () => got.push('specific'));
    wildcard.on('message', () => got.push('wildcard'));
    const socket = lab.client.bindUdp();
    socket.send(Buffer.from('a'), 53, '192.0.2.11');
    socket.send(Buffer.from('b'), 53, SERVER_IP);
    socket.send(Buffer.from('c'), 54, SERVER_IP);
    await until(() => got.length === 2 && lab!.server.stats.dropped['udp-port-closed'] === 1, 2000, 'delivery');
    expect(got.sort()).toEqual(['specific', 'wildcard']);
    expect(() => lab!.server.bindUdp({ port: 53, address: '192.0.2.11' })).toThrow(/already bound/);
    specific.close();
    expect(() => lab!.server.bindUdp({ port: 53, address: '192.0.2.11' })).not.toThrow();
  });

  it('refuses a datagram larger than the MTU allows (the lab does not fragment)', () => {
    lab = createLabPair({ clientAddresses: [CLIENT_IP, CLIENT_IP6] });
    const socket = lab.client.bindUdp();
    expect(() => socket.send(new Uint8Array(1472), 9, SERVER_IP)).not.toThrow(); // 1500 − 20 − 8
    expect(() => socket.send(new Uint8Array(1473), 9, SERVER_IP)).toThrow(/at most 1472/);
    expect(() => socket.send(new Uint8Array(1453), 9, SERVER_IP6)).toThrow(/at most 1452/); // 1500 − 40 − 8
    socket.close();
    expect(() => socket.send(new Uint8Array(1), 9, SERVER_IP)).toThrow(/closed/);
  });
});
