import { afterEach, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import type { TcpSocket } from '../../../../harness/net/stack/tcp-socket.ts';
import { createLabPair, randomBytes, readAll, sha256, SERVER_IP, type LabPair } from '../helpers/lab-pair.ts';

const MiB = 1024 * 1024;

describe('TCP over a memory wire', () => {
  let lab: LabPair | undefined;
  afterEach(() => lab?.close());

  it('negotiates MSS and window scaling in the handshake', async () => {
    lab = createLabPair({ record: true, serverTcp: { receiveBufferSize: 1024 * 1024 } });
    lab.server.listen({ port: 80 }, (socket) => socket.end());
    const socket = lab.client.connect({ remoteAddress: SERVER_IP, remotePort: 80 });
    await once(socket, 'connect');
    const [syn, synAck] = lab.segments;
    expect(syn?.tcp.flags.syn && !syn.tcp.flags.ack).toBe(true);
    // 256 KiB default receive buffer: 262144 >> 3 = 32768 fits 16 bits, >> 2 = 65536 does not.
    expect(syn?.tcp.options).toEqual([{ type: 'mss', mss: 1460 }, { type: 'nop' }, { type: 'window-scale', shift: 3 }]);
    expect(synAck?.tcp.flags.syn && synAck.tcp.flags.ack).toBe(true);
    // 1 MiB receive buffer needs shift 5 to be advertised in 16 bits.
    expect(synAck?.tcp.options).toEqual([{ type: 'mss', mss: 1460 }, { type: 'nop' }, { type: 'window-scale', shift: 5 }]);
    await readAll(socket);
  });

  it('moves 10 MiB each way at once, byte-identical, frames ≤ 1514 bytes', async () => {
    lab = createLabPair();
    const upstream = randomBytes(10 * MiB);
    const downstream = randomBytes(10 * MiB);
    let serverReceived: Promise<Buffer> | undefined;
    lab.server.listen({ port: 80 }, (socket) => {
      serverReceived = readAll(socket);
      socket.end(downstream);
    });
    const socket = lab.client.connect({ remoteAddress: SERVER_IP, remotePort: 80 });
    const clientReceived = readAll(socket);
    socket.end(upstream);
    expect(sha256(await clientReceived)).toBe(sha256(downstream));
    expect(sha256((await serverReceived)!)).toBe(sha256(upstream));
    expect(lab.largestFrame()).toBeLessThanOrEqual(1514);
    expect(lab.largestFrame()).toBe(1514); // full-sized segments were used
  }, 20_000);

  it('gives each connection its own ephemeral port', async () => {
    lab = createLabPair();
    lab.server.listen({ port: 80 }, (socket) => socket.end('ok'));
    const sockets: TcpSocket[] = [];
    for (let i = 0; i < 300; i++) sockets.push(lab.client.connect({ remoteAddress: SERVER_IP, remotePort: 80 }));
    expect(new Set(sockets.map((s) => s.localPort)).size).toBe(300);
    for (const socket of sockets) {
      expect(socket.localPort).toBeGreaterThanOrEqual(49152);
      socket.end();
    }
    const replies = await Promise.all(sockets.map(readAll));
    expect(replies.every((reply) => reply.toString() === 'ok')).toBe(true);
  });

  it('queues writes made before the handshake completes', async () => {
    lab = createLabPair();
    lab.server.listen({ port: 7 }, (socket) => socket.pipe(socket));
    const socket = lab.client.connect({ remoteAddress: SERVER_IP, remotePort: 7 });
    expect(socket.connecting).toBe(true);
    socket.write('before ');
    socket.end('connect');
    expect((await readAll(socket)).toString()).toBe('before connect');
  });
});
