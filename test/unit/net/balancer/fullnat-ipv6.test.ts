import { afterEach, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { FullNatBalancer } from '../../../../harness/net/balancer/fullnat.ts';
import { createSimulatedClientCycle } from '../../../../harness/net/balancer/simulated-clients.ts';
import { NetworkHost } from '../../../../harness/net/stack/network-host.ts';
import { createMemoryWirePair } from '../../../../harness/net/wire/memory-wire.ts';
import { FAST_ARP, FAST_TIMERS, SERVER_IP6 } from '../helpers/lab-pair.ts';
import { ToyBackend } from '../helpers/toy-backend.ts';

function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => {
      socket.end();
      resolve(Buffer.concat(chunks).toString());
    });
    socket.on('error', reject);
    socket.write('GET / HTTP/1.0\r\n\r\n');
  });
}

describe('FULLNAT balancer to an IPv6 backend', () => {
  let balancer: FullNatBalancer | undefined;
  let backend: ToyBackend | undefined;
  afterEach(async () => {
    await balancer?.close();
    backend?.close();
  });

  async function start(chooseClient?: (index: number) => { address: string; port: number }): Promise<void> {
    const [balancerWire, backendWire] = createMemoryWirePair();
    backend = new ToyBackend(backendWire, [SERVER_IP6]);
    balancer = await FullNatBalancer.start({
      wire: balancerWire,
      backend: { address: SERVER_IP6, port: 80 },
      tcp: FAST_TIMERS,
      arp: FAST_ARP,
      ...(chooseClient && { chooseClient }),
    });
  }

  it('connects from 2001:db8::2 and names an IPv6 client from 2001:db8:1::/64 in the 20-byte option', async () => {
    await start(createSimulatedClientCycle({ family: 6 }));
    expect(await get(balancer!.port)).toBe('HTTP/1.0 200 OK\r\n\r\nclient=2001:db8:1::1:40001');
    expect(await get(balancer!.port)).toBe('HTTP/1.0 200 OK\r\n\r\nclient=2001:db8:1::2:40002');
    expect(balancer!.address).toBe('2001:db8::2');
    expect(backend!.log[0]).toMatchObject({
      peer: expect.stringMatching(/^2001:db8::2:\d+$/),
      toa: { kind: 254, family: 6, address: '2001:db8:1::1', port: 40001 },
    });
  });

  it('can name an IPv4 client over IPv6 (the 8-byte option), when the scenario says so', async () => {
    await start();
    expect(await get(balancer!.port)).toBe('HTTP/1.0 200 OK\r\n\r\nclient=198.51.100.1:40001');
    expect(backend!.log[0]?.toa).toEqual({ kind: 254, family: 4, address: '198.51.100.1', port: 40001 });
  });

  it('needs its address on a shared host, and says how to add it', async () => {
    const [wire] = createMemoryWirePair();
    const host = new NetworkHost({ wire, mac: '52:54:00:00:02:02', addresses: ['192.0.2.2'] });
    await expect(FullNatBalancer.start({ host, backend: { address: SERVER_IP6, port: 80 } })).rejects.toThrow(
      /2001:db8::2 is not on the given host .* host\.addAddress/,
    );
    host.addAddress('2001:db8::2');
    const shared = await FullNatBalancer.start({ host, backend: { address: SERVER_IP6, port: 80 } });
    await shared.close();
    host.close();
  });
});
