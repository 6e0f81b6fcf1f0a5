import { afterEach, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import type { TcpSocket } from '../../../../harness/net/stack/tcp-socket.ts';
import { closed, createLabPair, nextError, readAll, SERVER_IP, until, type LabPair } from '../helpers/lab-pair.ts';

describe('TCP close and reset', () => {
  let lab: LabPair | undefined;
  afterEach(() => lab?.close());

  it('half-closes: the client ends, then still receives the whole response', async () => {
    lab = createLabPair({ record: true });
    let serverSocket: TcpSocket | undefined;
    lab.server.listen({ port: 80 }, (socket) => {
      serverSocket = socket;
      // Answer only after the request has been fully received (client FIN), like HTTP/1.0.
      readAll(socket).then((request) => {
        setTimeout(() => socket.end(`got ${request.length} bytes`), 20);
      });
    });
    const socket = lab.client.connect({ remoteAddress: SERVER_IP, remotePort: 80 });
    socket.end('GET / HTTP/1.0\r\n\r\n');
    await once(socket, 'finish');
    await until(() => socket.tcpState === 'FIN-WAIT-2', 2000, 'FIN-WAIT-2');
    expect((await readAll(socket)).toString()).toBe('got 18 bytes');
    await closed(socket);
    await until(() => lab!.client.connectionCount === 0 && lab!.server.connectionCount === 0, 2000, 'both TCBs gone');
    expect(serverSocket?.destroyed).toBe(true);
    // FIN went both ways and no RST was needed.
    const fins = lab.segments.filter((s) => s.tcp.flags.fin).map((s) => s.direction);
    expect(fins).toEqual(['out', 'in']);
    expect(lab.segments.some((s) => s.tcp.flags.rst)).toBe(false);
  });

  it('passes through TIME-WAIT on the side that closed first', async () => {
    lab = createLabPair({ clientTcp: { timeWaitMs: 1000 } });
    lab.server.listen({ port: 80 }, (socket) => {
      socket.resume();
      socket.on('end', () => socket.end());
    });
    const socket = lab.client.connect({ remoteAddress: SERVER_IP, remotePort: 80 });
    socket.resume();
    socket.end('x');
    await closed(socket);
    await until(() => socket.tcpState === 'TIME-WAIT', 1000, 'TIME-WAIT');
    expect(lab.client.connectionCount).toBe(1);
    await until(() => lab!.client.connectionCount === 0, 3000, 'TIME-WAIT to end');
  });

  it('reuses a 4-tuple in TIME-WAIT on either side (like Linux tcp_tw_reuse / SYN in TIME-WAIT)', async () => {
    lab = createLabPair({ clientTcp: { timeWaitMs: 60_000 }, serverTcp: { timeWaitMs: 60_000 } });
    let closeFirst: 'client' | 'server' = 'client';
    lab.server.listen({ port: 80 }, (socket) => {
      socket.resume();
      if (closeFirst === 'server') socket.end('bye');
      else socket.on('end', () => socket.end('bye'));
    });
    const roundTrip = async (): Promise<string> => {
      const socket = lab!.client.connect({ remoteAddress: SERVER_IP, remotePort: 80, localPort: 50000 });
      const reply = readAll(socket);
      if (closeFirst === 'client') socket.end('hi');
      else socket.on('end', () => socket.end());
      const text = (await reply).toString();
      await closed(socket);
      return text;
    };
    expect(await roundTrip()).toBe('bye');
    await until(() => lab!.client.connectionCount === 1, 1000, 'client TIME-WAIT');
    expect(await roundTrip()).toBe('bye'); // our own TIME-WAIT entry was taken over
    closeFirst = 'server';
    expect(await roundTrip()).toBe('bye');
    await until(() => lab!.server.connectionCount === 1 && lab!.client.connectionCount === 0, 1000, 'server TIME-WAIT');
    expect(await roundTrip()).toBe('bye'); // the server's TIME-WAIT accepted a fresh SYN
  });

  it('client abort → RST → the server sees ECONNRESET', async () => {
    lab = createLabPair();
    const serverError = new Promise<Error & { code?: string }>((resolve) =>
      lab!.server.listen({ port: 80 }, (socket) => socket.once('error', resolve)),
    );
    const socket = lab.client.connect({ remoteAddress: SERVER_IP, remotePort: 80 });
    await once(socket, 'connect');
    socket.destroy();
    expect((await serverError).code).toBe('ECONNRESET');
    await until(() => lab!.server.connectionCount === 0, 1000, 'server TCB gone');
  });

  it('server abort → RST → the client sees ECONNRESET, even mid-transfer', async () => {
    lab = createLabPair();
    lab.server.listen({ port: 80 }, (socket) => {
      socket.write(Buffer.alloc(100_000));
      setTimeout(() => socket.destroy(), 5);
    });
    const socket = lab.client.connect({ remoteAddress: SERVER_IP, remotePort: 80 });
    const error = await nextError(socket);
    expect(error.code).toBe('ECONNRESET');
    expect(error.message).toMatch(/reset by 192\.0\.2\.10:80/);
  });

  it('a closed port answers RST → ECONNREFUSED', async () => {
    lab = createLabPair();
    const socket = lab.client.connect({ remoteAddress: SERVER_IP, remotePort: 81 });
    expect((await nextError(socket)).code).toBe('ECONNREFUSED');
    expect(lab.client.connectionCount).toBe(0);
  });

  it('fails with EHOSTUNREACH when nobody answers ARP', async () => {
    lab = createLabPair();
    const socket = lab.client.connect({ remoteAddress: '192.0.2.99', remotePort: 80 });
    const error = await nextError(socket);
    expect(error.code).toBe('EHOSTUNREACH');
    expect(error.message).toMatch(/no ARP reply from 192\.0\.2\.99 after 4 requests/);
  });

  it('fails with ETIMEDOUT once retransmissions are exhausted', async () => {
    lab = createLabPair({
      clientTcp: { maxRetransmissions: 3, initialRtoMs: 20, minRtoMs: 10, maxRtoMs: 40 },
      // The server's replies never arrive (ARP replies do, so only TCP is lost).
      link: { bToA: { dropFrame: (frame) => frame[13] === 0x00 } },
    });
    lab.server.listen({ port: 80 }, () => {});
    const socket = lab.client.connect({ remoteAddress: SERVER_IP, remotePort: 80 });
    const error = await nextError(socket);
    expect(error.code).toBe('ETIMEDOUT');
    expect(error.message).toMatch(/SYN after 3 retransmissions/);
  });

  it('fails every connection with ENETDOWN when the wire goes away', async () => {
    lab = createLabPair();
    const serverErrors: string[] = [];
    let accepted = false;
    lab.server.listen({ port: 80 }, (socket) => {
      accepted = true;
      socket.on('error', (e: Error & { code?: string }) => serverErrors.push(e.code!));
    });
    const socket = lab.client.connect({ remoteAddress: SERVER_IP, remotePort: 80 });
    await until(() => accepted, 1000, 'accept');
    void lab.clientWire.close();
    expect((await nextError(socket)).code).toBe('ENETDOWN');
    expect(serverErrors).toEqual(['ENETDOWN']); // both hosts were on the unplugged cable
  });
});
