import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { FullNatBalancer, type FullNatConnectionRecord } from '../../../../harness/net/balancer/fullnat.ts';
import { createMemoryWirePair } from '../../../../harness/net/wire/memory-wire.ts';
import { ToyBackend } from '../helpers/toy-backend.ts';
import { CLIENT_IP, FAST_ARP, FAST_TIMERS, randomBytes, sha256, until } from '../helpers/lab-pair.ts';

interface Lab {
  balancer: FullNatBalancer;
  backend: ToyBackend;
}

async function startLab(options: Partial<Parameters<typeof FullNatBalancer.start>[0]> = {}): Promise<Lab> {
  const [balancerWire, backendWire] = createMemoryWirePair();
  const backend = new ToyBackend(backendWire);
  const balancer = await FullNatBalancer.start({ wire: balancerWire, tcp: FAST_TIMERS, arp: FAST_ARP, ...options } as Parameters<
    typeof FullNatBalancer.start
  >[0]);
  return { balancer, backend };
}

function request(port: number, text: string): Promise<{ response: string; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => {
      socket.end();
      resolve({ response: Buffer.concat(chunks).toString(), socket });
    });
    socket.on('error', reject);
    socket.write(text);
  });
}

/** Resolves on 'close' (unlike events.once, an 'error' before it is not a rejection). */
const closeOf = (emitter: NodeJS.EventEmitter): Promise<void> => new Promise((resolve) => emitter.once('close', () => resolve()));

const closedRecord = (balancer: FullNatBalancer): Promise<FullNatConnectionRecord> =>
  once(balancer, 'connection-closed').then(([record]) => record as FullNatConnectionRecord);

describe('FULLNAT balancer', () => {
  let lab: Lab | undefined;
  afterEach(async () => {
    await lab?.balancer.close();
    lab?.backend.close();
    lab = undefined;
  });

  it('relays a request and injects the simulated client as TOA', async () => {
    lab = await startLab();
    const { balancer, backend } = lab;
    expect(balancer.port).toBeGreaterThan(0);
    const closed = closedRecord(balancer);
    const { response } = await request(balancer.port, 'GET / HTTP/1.0\r\n\r\n');
    expect(response).toBe('HTTP/1.0 200 OK\r\n\r\nclient=198.51.100.1:40001');
    const record = await closed;
    expect(record).toMatchObject({
      id: 1,
      injectedClient: { address: '198.51.100.1', port: 40001 },
      balancer: { address: '192.0.2.2' },
      backend: { address: '192.0.2.10', port: 80 },
      bytesToBackend: 18,
      bytesFromBackend: response.length,
      outcome: 'closed',
    });
    expect(record.client.address).toBe('127.0.0.1');
    // What the backend logged matches what the balancer says it injected, by source port.
    expect(backend.log).toEqual([
      {
        peer: `192.0.2.2:${record.balancer.port}`,
        toa: { kind: 254, family: 4, address: '198.51.100.1', port: 40001 },
        request: 'GET / HTTP/1.0',
      },
    ]);
  });

  it('gives concurrent connections distinct clients, matchable by balancer port', async () => {
    lab = await startLab();
    const { balancer, backend } = lab;
    const responses = await Promise.all(Array.from({ length: 20 }, () => request(balancer.port, 'GET / HTTP/1.0\r\n\r\n')));
    await until(() => balancer.records.every((r) => r.outcome !== 'open'), 2000, 'records to close');
    expect(new Set(responses.map((r) => r.response)).size).toBe(20);
    for (const record of balancer.records) {
      const line = backend.log.find((l) => l.peer === `${record.balancer.address}:${record.balancer.port}`);
      expect(line?.toa?.address).toBe(record.injectedClient?.address);
      expect(line?.toa?.port).toBe(record.injectedClient?.port);
    }
  });

  it('cycles clients through both documentation ranges, never .0 or .255', async () => {
    const { createSimulatedClientCycle } = await import('../../../../harness/net/balancer/simulated-clients.ts');
    const pick = createSimulatedClientCycle();
    const clients = Array.from({ length: 600 }, (_, i) => pick(i));
    expect(clients[0]).toEqual({ address: '198.51.100.1', port: 40001 });
    expect(clients[253]!.address).toBe('198.51.100.254');
    expect(clients[254]!.address).toBe('203.0.113.1');
    expect(clients[508]!.address).toBe('198.51.100.1');
    expect(clients.every((c) => !/\.(0|255)$/.test(c.address))).toBe(true);
    expect(new Set(clients.map((c) => c.port)).size).toBe(600);
  });

  it('relays 8 MiB up and back intact, with backpressure both ways', async () => {
    lab = await startLab();
    const upload = randomBytes(8 * 1024 * 1024);
    const socket = connect({ host: '127.0.0.1', port: lab.balancer.port, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    const ended = once(socket, 'end');
    socket.write('POST /echo HTTP/1.0\r\n\r\n');
    socket.end(upload); // half-close: the echo keeps flowing back after our FIN
    await ended;
    const header = 'HTTP/1.0 200 OK\r\n\r\n';
    const body = Buffer.concat(chunks);
    expect(body.subarray(0, header.length).toString()).toBe(header);
    expect(sha256(body.subarray(header.length))).toBe(sha256(upload));
    socket.destroy();
  }, 20_000);

  it('client RST → RST to the backend', async () => {
    lab = await startLab();
    const { balancer, backend } = lab;
    const closed = closedRecord(balancer);
    const socket = connect({ host: '127.0.0.1', port: balancer.port });
    await once(socket, 'connect');
    await until(() => backend.sockets.length === 1, 2000, 'backend to accept');
    const backendError = closeOf(backend.sockets[0]!);
    socket.resetAndDestroy();
    await backendError;
    expect(backend.sockets[0]!.errored).toMatchObject({ code: 'ECONNRESET' });
    expect((await closed).outcome).toBe('client-reset');
  });

  it('backend RST → the client is reset', async () => {
    lab = await startLab();
    const { balancer, backend } = lab;
    const closed = closedRecord(balancer);
    const socket = connect({ host: '127.0.0.1', port: balancer.port });
    const clientError = new Promise<NodeJS.ErrnoException>((resolve) => socket.on('error', resolve));
    await until(() => backend.sockets.length === 1, 2000, 'backend to accept');
    backend.sockets[0]!.destroy();
    expect((await clientError).code).toBe('ECONNRESET');
    expect((await closed).outcome).toBe('backend-reset');
  });

  it('nothing listening on the backend port → refused, client reset', async () => {
    lab = await startLab({ backend: { address: '192.0.2.10', port: 8080 } });
    const closed = closedRecord(lab.balancer);
    const socket = connect({ host: '127.0.0.1', port: lab.balancer.port });
    const error = await new Promise<NodeJS.ErrnoException>((resolve) => socket.on('error', resolve));
    expect(error.code).toBe('ECONNRESET');
    const record = await closed;
    expect(record.outcome).toBe('backend-refused');
    expect(record.error).toMatch(/ECONNREFUSED/);
  });

  it('control run: with TOA off the backend sees only the balancer', async () => {
    lab = await startLab({ toa: false });
    const { response } = await request(lab.balancer.port, 'GET / HTTP/1.0\r\n\r\n');
    expect(response).toMatch(/^HTTP\/1\.0 200 OK\r\n\r\nclient=192\.0\.2\.2:\d+$/);
    expect(lab.backend.log[0]?.toa).toBeUndefined();
    expect(lab.balancer.records[0]?.injectedClient).toBeUndefined();
  });

  it('takes placement, kind and a client picker', async () => {
    lab = await startLab({
      toa: { kind: 200, placement: ['syn'] },
      chooseClient: (index) => ({ address: '203.0.113.77', port: 1000 + index }),
    });
    await request(lab.balancer.port, 'GET / HTTP/1.0\r\n\r\n');
    // The toy backend reads kind 254 only: with kind 200 it sees no TOA, as a 254 module would.
    expect(lab.backend.log[0]?.toa).toBeUndefined();
    expect(lab.balancer.records[0]?.injectedClient).toEqual({ address: '203.0.113.77', port: 1000 });
  });

  it('close() resets live connections and stops listening', async () => {
    lab = await startLab();
    const { balancer, backend } = lab;
    const socket = connect({ host: '127.0.0.1', port: balancer.port });
    socket.on('error', () => {});
    const clientClosed = closeOf(socket);
    await until(() => backend.sockets.length === 1, 2000, 'backend to accept');
    const backendClosed = closeOf(backend.sockets[0]!);
    const record = closedRecord(balancer);
    await balancer.close();
    expect((await record).outcome).toBe('balancer-closed');
    await backendClosed;
    expect(backend.sockets[0]!.errored).toMatchObject({ code: 'ECONNRESET' });
    await clientClosed;
    const refused = connect({ host: '127.0.0.1', port: balancer.port });
    expect(((await once(refused, 'error'))[0] as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
  });

  it('can share a host the caller owns', async () => {
    const [balancerWire, backendWire] = createMemoryWirePair();
    const backend = new ToyBackend(backendWire);
    const { NetworkHost } = await import('../../../../harness/net/stack/network-host.ts');
    const host = new NetworkHost({ wire: balancerWire, mac: '52:54:00:00:02:02', addresses: [CLIENT_IP], arp: FAST_ARP });
    const balancer = await FullNatBalancer.start({ host });
    lab = { balancer, backend };
    const { response } = await request(balancer.port, 'GET / HTTP/1.0\r\n\r\n');
    expect(response).toContain('client=198.51.100.1:40001');
    await balancer.close();
    expect(() => host.connect({ remoteAddress: '192.0.2.10', remotePort: 80 })).not.toThrow(); // still open
    host.close();
  });
});
