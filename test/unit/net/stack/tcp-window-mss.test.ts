import { afterEach, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import type { TcpSocket } from '../../../../harness/net/stack/tcp-socket.ts';
import { seqAdd, seqDiff } from '../../../../harness/net/stack/sequence-numbers.ts';
import { toaSegmentOptions } from '../../../../harness/net/balancer/toa-policy.ts';
import { createLabPair, randomBytes, readAll, sha256, SERVER_IP, until, type LabPair, type TappedSegment } from '../helpers/lab-pair.ts';

/**
 * Checks from the client's tap that no data segment went past the right edge of the window the
 * server had advertised at that moment (scaled as negotiated).
 */
function assertWindowRespected(segments: TappedSegment[], serverShift: number): void {
  let edge: number | undefined;
  for (const { direction, tcp } of segments) {
    if (direction === 'in' && tcp.flags.ack) {
      const window = tcp.flags.syn ? tcp.window : tcp.window << serverShift;
      edge = seqAdd(tcp.acknowledgmentNumber, window);
    } else if (direction === 'out' && tcp.payload.length > 0 && edge !== undefined) {
      const end = seqAdd(tcp.sequenceNumber, tcp.payload.length);
      expect(seqDiff(end, edge), `segment ending at ${end} past the window edge ${edge}`).toBeLessThanOrEqual(0);
    }
  }
}

describe('TCP windows and MSS', () => {
  let lab: LabPair | undefined;
  afterEach(() => lab?.close());

  it('never sends past a tiny peer window', async () => {
    lab = createLabPair({ record: true, serverTcp: { receiveBufferSize: 700 } });
    let received: Promise<Buffer> | undefined;
    lab.server.listen({ port: 80 }, (socket) => {
      received = readAll(socket);
      socket.end();
    });
    const data = randomBytes(100_000);
    const socket = lab.client.connect({ remoteAddress: SERVER_IP, remotePort: 80 });
    socket.end(data);
    await readAll(socket);
    expect(sha256((await received)!)).toBe(sha256(data));
    const outgoing = lab.segments.filter((s) => s.direction === 'out' && s.tcp.payload.length > 0);
    expect(Math.max(...outgoing.map((s) => s.tcp.payload.length))).toBeLessThanOrEqual(700);
    assertWindowRespected(lab.segments, 0); // 700 bytes needs no scaling
  });

  it('honours a tiny peer MSS, minus the options each segment carries', async () => {
    lab = createLabPair({ record: true, serverTcp: { mss: 100 } });
    const data = randomBytes(20_000);
    const reply = randomBytes(20_000);
    lab.server.listen({ port: 80 }, (socket) => {
      socket.resume();
      socket.end(reply);
    });
    const socket = lab.client.connect({
      remoteAddress: SERVER_IP,
      remotePort: 80,
      segmentOptions: toaSegmentOptions({ client: { address: '198.51.100.7', port: 40001 }, placement: ['every'] }),
    });
    const received = readAll(socket);
    socket.end(data);
    expect(sha256(await received)).toBe(sha256(reply));
    const sizes = (direction: 'in' | 'out'): number[] =>
      lab!.segments.filter((s) => s.direction === direction && s.tcp.payload.length > 0).map((s) => s.tcp.payload.length);
    // The client carries an 8-byte TOA option on every segment: 100 − 8 = 92 bytes of payload.
    expect(Math.max(...sizes('out'))).toBe(92);
    // The server's own MSS (100) also caps what it sends back.
    expect(Math.max(...sizes('in'))).toBe(100);
  });

  it('shrinks its window while the consumer does not read, and reopens it afterwards', async () => {
    lab = createLabPair({ record: true, serverTcp: { receiveBufferSize: 64 * 1024 } });
    let serverSocket: TcpSocket | undefined;
    lab.server.listen({ port: 80 }, (socket) => {
      serverSocket = socket;
      socket.pause(); // the application is busy
    });
    const data = randomBytes(1024 * 1024);
    const socket = lab.client.connect({ remoteAddress: SERVER_IP, remotePort: 80 });
    const finished = once(socket, 'finish');
    socket.end(data);
    await until(() => serverSocket !== undefined && serverSocket.readableLength >= 60 * 1024, 2000, 'receive buffer to fill');
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Nothing beyond the buffer was accepted, and the server said so with a zero window.
    expect(serverSocket!.readableLength).toBeLessThanOrEqual(64 * 1024);
    const zeroWindows = lab.segments.filter((s) => s.direction === 'in' && s.tcp.window === 0 && !s.tcp.flags.syn);
    expect(zeroWindows.length).toBeGreaterThan(0);
    // The client's writes are blocked: most of the megabyte is still waiting in its stream.
    expect(socket.writableFinished).toBe(false);

    const received = readAll(serverSocket!);
    serverSocket!.resume();
    expect(sha256(await received)).toBe(sha256(data));
    await finished;
  });

  it('probes a zero window until the peer opens it', async () => {
    lab = createLabPair({ record: true, serverTcp: { receiveBufferSize: 8 * 1024 } });
    let serverSocket: TcpSocket | undefined;
    lab.server.listen({ port: 80 }, (socket) => {
      serverSocket = socket;
      socket.pause();
    });
    const socket = lab.client.connect({ remoteAddress: SERVER_IP, remotePort: 80 });
    socket.end(randomBytes(32 * 1024));
    await until(() => serverSocket !== undefined && serverSocket.readableLength >= 8 * 1024, 2000, 'window to close');
    const probes = (): number =>
      lab!.segments.filter((s) => s.direction === 'out' && s.tcp.payload.length === 0 && s.tcp.flags.ack && !s.tcp.flags.fin)
        .length;
    await until(() => probes() > 2, 3000, 'repeated zero-window probes');
    const received = readAll(serverSocket!);
    serverSocket!.resume();
    expect((await received).length).toBe(32 * 1024);
  });
});
