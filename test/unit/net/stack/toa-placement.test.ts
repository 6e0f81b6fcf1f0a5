import { afterEach, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { findToaOption } from '../../../../harness/net/codec/toa-option.ts';
import { serializeTcpOptions } from '../../../../harness/net/codec/tcp-options.ts';
import { toaSegmentOptions, type ToaPlacement } from '../../../../harness/net/balancer/toa-policy.ts';
import { seqAdd } from '../../../../harness/net/stack/sequence-numbers.ts';
import { createLabPair, readAll, SERVER_IP, until, type LabPair, type TappedSegment } from '../helpers/lab-pair.ts';

const CLIENT = { address: '198.51.100.7', port: 40001 };

/** Names each segment the client sent by its place in the conversation. */
function classify(segments: TappedSegment[]): { name: string; segment: TappedSegment }[] {
  const syn = segments.find((s) => s.direction === 'out' && s.tcp.flags.syn);
  if (!syn) throw new Error('no SYN sent');
  const firstDataSeq = seqAdd(syn.tcp.sequenceNumber, 1);
  let handshakeAckSeen = false;
  return segments
    .filter((s) => s.direction === 'out')
    .map((segment) => {
      const { tcp } = segment;
      if (tcp.flags.syn) return { name: 'syn', segment };
      if (tcp.payload.length > 0 && tcp.sequenceNumber === firstDataSeq) return { name: 'first-data', segment };
      if (!handshakeAckSeen && tcp.payload.length === 0 && !tcp.flags.fin) {
        handshakeAckSeen = true;
        return { name: 'ack', segment };
      }
      return { name: 'other', segment };
    });
}

async function converse(lab: LabPair, placement: ToaPlacement[], dropHandshakeAck = false): Promise<void> {
  lab.server.listen({ port: 80 }, (socket) => socket.pipe(socket));
  const socket = lab.client.connect({
    remoteAddress: SERVER_IP,
    remotePort: 80,
    segmentOptions: toaSegmentOptions({ client: CLIENT, placement, dropHandshakeAck }),
  });
  await once(socket, 'connect');
  await new Promise((resolve) => setTimeout(resolve, 5)); // let the handshake ACK go out alone
  socket.write('hello ');
  await once(socket, 'data');
  const rest = readAll(socket);
  socket.end('world');
  await rest;
}

const ALL: ToaPlacement[] = ['syn', 'ack', 'first-data', 'every'];
const subsets = Array.from({ length: 16 }, (_, mask) => ALL.filter((_, bit) => mask & (1 << bit)));

describe('TOA placement', () => {
  let lab: LabPair | undefined;
  afterEach(() => lab?.close());

  it.each(subsets.map((subset) => [subset.join('+') || '(none)', subset] as const))(
    'carries TOA on exactly the configured segments: %s',
    async (_, placement) => {
      lab = createLabPair({ record: true });
      await converse(lab, placement);
      const named = classify(lab.segments);
      expect(named.map((n) => n.name)).toEqual(expect.arrayContaining(['syn', 'ack', 'first-data', 'other']));
      for (const { name, segment } of named) {
        const expected = placement.includes('every') || (placement as string[]).includes(name);
        const toa = findToaOption(segment.tcp.options);
        expect(toa !== undefined, `${name} segment: TOA expected ${expected}`).toBe(expected);
        if (toa) expect(toa).toEqual({ kind: 254, family: 4, ...CLIENT });
      }
    },
  );

  it('dropHandshakeAck: the first data segment completes the handshake and carries TOA', async () => {
    // A slow SYN-ACK retransmission, so only the data segment can complete the handshake.
    lab = createLabPair({ record: true, serverTcp: { initialRtoMs: 5000 } });
    const accepted: string[] = [];
    lab.server.listen({ port: 80 }, (socket) => {
      accepted.push(socket.tcpState);
      socket.pipe(socket);
    });
    const socket = lab.client.connect({
      remoteAddress: SERVER_IP,
      remotePort: 80,
      segmentOptions: toaSegmentOptions({ client: CLIENT, placement: ['first-data'], dropHandshakeAck: true }),
    });
    await once(socket, 'connect');
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(accepted).toEqual([]); // the server is still in SYN-RECEIVED
    const echoed = readAll(socket);
    socket.end('hello');
    expect((await echoed).toString()).toBe('hello');
    expect(accepted).toEqual(['ESTABLISHED']);
    const out = lab.segments.filter((s) => s.direction === 'out');
    expect(out[0]!.tcp.flags.syn).toBe(true);
    // Straight from SYN to data: no bare ACK in between.
    expect(out[1]!.tcp.payload.toString()).toBe('hello');
    expect(out[1]!.tcp.flags.ack).toBe(true);
    expect(findToaOption(out[1]!.tcp.options)).toEqual({ kind: 254, family: 4, ...CLIENT });
  });

  it('dropHandshakeAck: a retransmitted SYN-ACK is answered, as the handshake ACK', async () => {
    lab = createLabPair({ record: true, serverTcp: { initialRtoMs: 40 } });
    let accepted = false;
    lab.server.listen({ port: 80 }, () => (accepted = true));
    lab.client.connect({
      remoteAddress: SERVER_IP,
      remotePort: 80,
      segmentOptions: toaSegmentOptions({ client: CLIENT, placement: ['ack'], dropHandshakeAck: true }),
    });
    await until(() => accepted, 2000, 'the server to accept from the re-sent ACK');
    const synAcks = lab.segments.filter((s) => s.direction === 'in' && s.tcp.flags.syn);
    expect(synAcks.length).toBe(2);
    const ack = lab.segments.filter((s) => s.direction === 'out' && !s.tcp.flags.syn)[0]!;
    expect(ack.tcp.payload.length).toBe(0);
    expect(findToaOption(ack.tcp.options)?.address).toBe(CLIENT.address);
  });

  it('uses the configured kind', async () => {
    lab = createLabPair({ record: true });
    lab.server.listen({ port: 80 }, (socket) => socket.pipe(socket));
    const socket = lab.client.connect({
      remoteAddress: SERVER_IP,
      remotePort: 80,
      segmentOptions: toaSegmentOptions({ kind: 200, client: CLIENT, placement: ['syn'] }),
    });
    socket.end('x');
    await readAll(socket);
    expect(findToaOption(lab.segments[0]!.tcp.options, 200)?.port).toBe(CLIENT.port);
    expect(findToaOption(lab.segments[0]!.tcp.options, 254)).toBeUndefined();
  });

  it('puts raw hostile option bytes on the wire verbatim (TOA length 1 after the SYN options)', async () => {
    lab = createLabPair({ record: true });
    lab.server.listen({ port: 80 }, (socket) => socket.pipe(socket));
    const socket = lab.client.connect({
      remoteAddress: SERVER_IP,
      remotePort: 80,
      segmentOptions: toaSegmentOptions({ client: CLIENT, placement: ['syn'], rawOption: Uint8Array.of(0xfe, 0x01) }),
    });
    socket.end('still works');
    expect((await readAll(socket)).toString()).toBe('still works');
    const synOptions = serializeTcpOptions(lab.segments[0]!.tcp.options);
    // MSS 1460, NOP, wscale 3, then the hostile bytes and zero padding.
    expect([...synOptions]).toEqual([2, 4, 5, 0xb4, 1, 3, 3, 3, 0xfe, 0x01, 0, 0]);
  });

  it('refuses an unknown placement', () => {
    expect(() => toaSegmentOptions({ client: CLIENT, placement: ['synack' as ToaPlacement] })).toThrow(/unknown TOA placement/);
  });
});
