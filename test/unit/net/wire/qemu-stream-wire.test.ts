import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QemuStreamConnectError, QemuStreamWire } from '../../../../harness/net/wire/qemu-stream-wire.ts';
import { encodeStreamFrame } from '../../../../harness/net/wire/stream-framing.ts';
import { until } from '../helpers/lab-pair.ts';

/** Stands in for QEMU's `-netdev stream,server=on,addr.type=unix` listener. */
function fakeQemu(path: string): Promise<{ server: Server; peer: Promise<Socket> }> {
  let accept!: (socket: Socket) => void;
  const peer = new Promise<Socket>((resolve) => (accept = resolve));
  const server = createServer(accept);
  return new Promise((resolve) => server.listen(path, () => resolve({ server, peer })));
}

describe('QEMU stream wire', () => {
  const dirs: string[] = [];
  const cleanups: (() => unknown)[] = [];
  const socketPath = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'toa-lab-wire-'));
    dirs.push(dir);
    return join(dir, 'lab.sock');
  };
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('waits for the socket to appear, then exchanges length-prefixed frames', async () => {
    const path = socketPath();
    const connecting = QemuStreamWire.connect({ path, retryIntervalMs: 20, connectTimeoutMs: 5000 });
    await new Promise((resolve) => setTimeout(resolve, 100)); // QEMU "starts" late
    const { server, peer } = await fakeQemu(path);
    const wire = await connecting;
    const qemu = await peer;
    cleanups.push(() => wire.close(), () => new Promise((resolve) => server.close(resolve)));

    const received: number[][] = [];
    wire.onFrame((frame) => received.push(Array.from(frame)));
    // Two frames in one write, then one frame split over two writes.
    qemu.write(Buffer.concat([...encodeStreamFrame(Uint8Array.of(1, 2)), ...encodeStreamFrame(Uint8Array.of(3))]));
    const [prefix, body] = encodeStreamFrame(Uint8Array.of(4, 5, 6));
    qemu.write(Buffer.concat([prefix, body.subarray(0, 1)]));
    await new Promise((resolve) => setTimeout(resolve, 20));
    qemu.write(body.subarray(1));

    const fromWire: Buffer[] = [];
    qemu.on('data', (chunk: Buffer) => fromWire.push(chunk));
    wire.send(Uint8Array.of(7, 8));
    await until(() => received.length === 3 && Buffer.concat(fromWire).length === 6, 2000, 'frames both ways');
    expect(received).toEqual([[1, 2], [3], [4, 5, 6]]);
    expect([...Buffer.concat(fromWire)]).toEqual([0, 0, 0, 2, 7, 8]);
  });

  it('gives up with a clear error when nothing listens', async () => {
    const path = socketPath();
    await expect(QemuStreamWire.connect({ path, retryIntervalMs: 20, connectTimeoutMs: 150 })).rejects.toThrow(
      QemuStreamConnectError,
    );
    await expect(QemuStreamWire.connect({ path, retryIntervalMs: 20, connectTimeoutMs: 100 })).rejects.toThrow(
      /did not accept a connection within 100 ms.*ENOENT/,
    );
  });

  it('reports the peer hanging up and a desynchronised stream', async () => {
    const path = socketPath();
    const { server, peer } = await fakeQemu(path);
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const wire = await QemuStreamWire.connect({ path });
    const closed = new Promise<Error | undefined>((resolve) => wire.onClose(resolve));
    (await peer).write(Buffer.from([0xff, 0xff, 0xff, 0xff]));
    const error = await closed;
    expect(error?.message).toMatch(/out of sync/);
    expect(wire.closed).toBe(true);
  });
});
