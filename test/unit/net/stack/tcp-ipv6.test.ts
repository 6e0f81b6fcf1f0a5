import { afterEach, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { toaSegmentOptions } from '../../../../harness/net/balancer/toa-policy.ts';
import { findToaOption } from '../../../../harness/net/codec/toa-option.ts';
import {
  CLIENT_IP,
  CLIENT_IP6,
  createLabPair,
  randomBytes,
  readAll,
  SERVER_IP,
  SERVER_IP6,
  sha256,
  type LabPair,
} from '../helpers/lab-pair.ts';

const MiB = 1024 * 1024;

describe('TCP over IPv6', () => {
  let lab: LabPair | undefined;
  afterEach(() => lab?.close());

  it('resolves the peer by NS/NA and advertises MSS = MTU − 60', async () => {
    lab = createLabPair({ record: true, clientAddresses: [CLIENT_IP6], serverAddresses: [SERVER_IP6] });
    lab.server.listen({ port: 80 }, (socket) => socket.end('hello over v6'));
    const socket = lab.client.connect({ remoteAddress: SERVER_IP6, remotePort: 80 });
    expect((await readAll(socket)).toString()).toBe('hello over v6');
    const [syn, synAck] = lab.segments;
    expect(syn?.ip).toMatchObject({ family: 6, source: CLIENT_IP6, destination: SERVER_IP6 });
    expect(syn?.tcp.options).toContainEqual({ type: 'mss', mss: 1440 });
    expect(synAck?.tcp.options).toContainEqual({ type: 'mss', mss: 1440 });
    expect(lab.client.ndp.lookup(SERVER_IP6)).toBe('52:54:00:12:34:56');
    expect(lab.client.arp.lookup(SERVER_IP)).toBeUndefined(); // no IPv4 involved
  });

  it('moves 4 MiB each way, byte-identical, full frames of exactly 1514 bytes', async () => {
    lab = createLabPair({ clientAddresses: [CLIENT_IP6], serverAddresses: [SERVER_IP6] });
    const upstream = randomBytes(4 * MiB);
    const downstream = randomBytes(4 * MiB);
    let serverReceived: Promise<Buffer> | undefined;
    lab.server.listen({ port: 80 }, (socket) => {
      serverReceived = readAll(socket);
      socket.end(downstream);
    });
    const socket = lab.client.connect({ remoteAddress: SERVER_IP6, remotePort: 80 });
    const clientReceived = readAll(socket);
    socket.end(upstream);
    expect(sha256(await clientReceived)).toBe(sha256(downstream));
    expect(sha256((await serverReceived)!)).toBe(sha256(upstream));
    expect(lab.largestFrame()).toBe(1514);
  }, 20_000);

  it('carries the 20-byte TOA option and still never exceeds the MTU', async () => {
    lab = createLabPair({ record: true, clientAddresses: [CLIENT_IP6], serverAddresses: [SERVER_IP6] });
    let received: Promise<Buffer> | undefined;
    lab.server.listen({ port: 80 }, (socket) => {
      received = readAll(socket);
      socket.end();
    });
    const data = randomBytes(50_000);
    const socket = lab.client.connect({
      remoteAddress: SERVER_IP6,
      remotePort: 80,
      segmentOptions: toaSegmentOptions({ client: { address: '2001:db8:1::7', port: 40007 }, placement: ['every'] }),
    });
    socket.end(data);
    await readAll(socket);
    expect(sha256((await received)!)).toBe(sha256(data));
    const out = lab.segments.filter((s) => s.direction === 'out');
    expect(out.every((s) => findToaOption(s.tcp.options)?.address === '2001:db8:1::7')).toBe(true);
    expect(findToaOption(out[0]!.tcp.options)).toEqual({ kind: 254, family: 6, address: '2001:db8:1::7', port: 40007 });
    expect(lab.largestFrame()).toBeLessThanOrEqual(1514);
  });

  it('a dual-stack host picks the source of the remote family, and listens on both', async () => {
    lab = createLabPair({ clientAddresses: [CLIENT_IP, CLIENT_IP6], serverAddresses: [SERVER_IP, SERVER_IP6] });
    lab.server.listen({ port: 80 }, (socket) => socket.end(`${socket.remoteAddress} → ${socket.localAddress}`));
    const v4 = lab.client.connect({ remoteAddress: SERVER_IP, remotePort: 80 });
    const v6 = lab.client.connect({ remoteAddress: '2001:DB8:0::10', remotePort: 80 }); // any text form
    expect((await readAll(v4)).toString()).toBe(`${CLIENT_IP} → ${SERVER_IP}`);
    expect((await readAll(v6)).toString()).toBe(`${CLIENT_IP6} → ${SERVER_IP6}`);
    expect(v6.remoteAddress).toBe(SERVER_IP6);
  });

  it('refuses a source of the wrong family, or a family the host has no address in', () => {
    lab = createLabPair({ clientAddresses: [CLIENT_IP], serverAddresses: [SERVER_IP6] });
    expect(() => lab!.client.connect({ remoteAddress: SERVER_IP6, remotePort: 80 })).toThrow(/no IPv6 address on this host/);
    lab.client.addAddress(CLIENT_IP6);
    expect(() => lab!.client.connect({ remoteAddress: SERVER_IP6, remotePort: 80, localAddress: CLIENT_IP })).toThrow(/different families/);
  });

  it('takes addresses on and gives them up while running', async () => {
    lab = createLabPair({ serverAddresses: [SERVER_IP, SERVER_IP6] });
    lab.server.listen({ port: 80 }, (socket) => socket.end('ok'));
    expect(lab.client.addAddress('2001:db8::2')).toBe(true);
    expect(lab.client.addAddress('2001:db8:0::2')).toBe(false); // same address, other spelling
    const socket = lab.client.connect({ remoteAddress: SERVER_IP6, remotePort: 80 });
    await once(socket, 'connect');
    expect((await readAll(socket)).toString()).toBe('ok');
    expect(lab.client.removeAddress('2001:db8::2')).toBe(true);
    expect(lab.client.hasAddress('2001:db8::2')).toBe(false);
    expect(() => lab!.client.removeAddress(CLIENT_IP)).toThrow(/at least one/);
  });
});
