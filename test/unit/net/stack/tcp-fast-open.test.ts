import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { findFastOpenOption, type TcpOption } from '../../../../harness/net/codec/tcp-options.ts';
import { findToaOption } from '../../../../harness/net/codec/toa-option.ts';
import { toaSegmentOptions } from '../../../../harness/net/balancer/toa-policy.ts';
import type { TcpFastOpenConnect, TcpFastOpenServer } from '../../../../harness/net/stack/fast-open.ts';
import { seqAdd } from '../../../../harness/net/stack/sequence-numbers.ts';
import type { TcpSocket } from '../../../../harness/net/stack/tcp-socket.ts';
import type { SegmentOptionsHook } from '../../../../harness/net/stack/segment-options-hook.ts';
import { createLabPair, readAll, SERVER_IP, type LabPair, type TappedSegment } from '../helpers/lab-pair.ts';

const COOKIE = Uint8Array.of(0xc0, 0x0c, 0x1e, 0x5a, 0x11, 0x22, 0x33, 0x44);
const STALE = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
const serverWith = (cookieRequired = true): TcpFastOpenServer => ({ cookieFor: () => COOKIE, cookieRequired });

interface Accepted {
  socket: TcpSocket;
  /** The server socket's TCP state when the listener got it. */
  stateAtHandOut: string;
  /** Bytes already readable when the listener got it. */
  readableAtHandOut: number;
}

/**
 * One echo conversation: the server listener echoes what it reads (and ends when the client
 * ends); the client writes `request` then ends. Returns what came back and what each side saw.
 */
async function echo(
  lab: LabPair,
  request: Uint8Array,
  client: TcpFastOpenConnect | undefined,
  server: TcpFastOpenServer | undefined,
  segmentOptions?: SegmentOptionsHook,
): Promise<{ echoed: Buffer; accepted: Accepted; socket: TcpSocket }> {
  let accepted: Accepted | undefined;
  lab.server.listen({ port: 80, ...(server && { fastOpen: server }) }, (socket) => {
    accepted = { socket, stateAtHandOut: socket.tcpState, readableAtHandOut: socket.readableLength };
    socket.pipe(socket);
  });
  const socket = lab.client.connect({
    remoteAddress: SERVER_IP,
    remotePort: 80,
    ...(client && { fastOpen: client }),
    ...(segmentOptions && { segmentOptions }),
  });
  const echoed = readAll(socket);
  socket.end(request);
  const result = await echoed;
  return { echoed: result, accepted: accepted!, socket };
}

/** The Fast Open cookie of a segment, as a plain Uint8Array (parsed ones are views into the frame). */
const cookieIn = (options: readonly TcpOption[]): Uint8Array | undefined => {
  const cookie = findFastOpenOption(options);
  return cookie && Uint8Array.from(cookie);
};
const outgoing = (segments: TappedSegment[]): TappedSegment[] => segments.filter((s) => s.direction === 'out');
const incoming = (segments: TappedSegment[]): TappedSegment[] => segments.filter((s) => s.direction === 'in');

describe('TCP Fast Open handshake', () => {
  let lab: LabPair | undefined;
  afterEach(() => lab?.close());

  it('cookie request: an empty option and no data in the SYN, the cookie in the SYN-ACK, the data after the handshake', async () => {
    lab = createLabPair({ record: true });
    const got: Uint8Array[] = [];
    const { echoed, accepted, socket } = await echo(lab, Buffer.from('GET / HTTP/1.1\r\n\r\n'), { onCookie: (c) => got.push(c) }, serverWith());
    expect(echoed.toString()).toBe('GET / HTTP/1.1\r\n\r\n');
    const syn = outgoing(lab.segments)[0]!.tcp;
    expect(syn.flags.syn).toBe(true);
    expect(cookieIn(syn.options)).toEqual(new Uint8Array(0));
    expect(syn.payload.length).toBe(0);
    const synAck = incoming(lab.segments).find((s) => s.tcp.flags.syn)!.tcp;
    expect(cookieIn(synAck.options)).toEqual(COOKIE);
    expect(got).toEqual([COOKIE]);
    expect(accepted.stateAtHandOut).toBe('ESTABLISHED'); // an ordinary handshake
    expect(socket.synDataAccepted).toBe(false);
  });

  it('valid cookie: cookie and data in the SYN, the SYN-ACK acknowledges both, the server has the data before the ACK', async () => {
    lab = createLabPair({ record: true });
    const request = Buffer.from('GET /?conn=1 HTTP/1.1\r\n\r\n');
    const { echoed, accepted, socket } = await echo(lab, request, { cookie: COOKIE }, serverWith());
    expect(echoed).toEqual(request);
    const syn = outgoing(lab.segments)[0]!.tcp;
    expect(cookieIn(syn.options)).toEqual(COOKIE);
    expect(Buffer.from(syn.payload)).toEqual(request);
    const synAck = incoming(lab.segments).find((s) => s.tcp.flags.syn)!.tcp;
    expect(synAck.acknowledgmentNumber).toBe(seqAdd(syn.sequenceNumber, 1 + request.length));
    expect(cookieIn(synAck.options)).toBeUndefined(); // Linux sends none back for a valid cookie
    expect(accepted.stateAtHandOut).toBe('SYN-RECEIVED');
    expect(accepted.readableAtHandOut).toBe(request.length);
    expect(socket.synDataAccepted).toBe(true);
    expect(accepted.socket.synDataAccepted).toBe(true);
    // The data went once: nothing after the SYN repeats it.
    expect(outgoing(lab.segments).filter((s) => s.tcp.payload.length > 0).length).toBe(1);
  });

  it('a Fast Open server answers before the handshake ACK (RFC 7413 §4.2.2)', async () => {
    // The client never sends the bare handshake ACK: the response can only be the server's
    // answer to the SYN's data alone.
    lab = createLabPair({ record: true, serverTcp: { initialRtoMs: 5000 } });
    let stateWhenAnswering = '';
    lab.server.listen({ port: 80, fastOpen: serverWith() }, (socket) => {
      socket.once('data', () => {
        stateWhenAnswering = socket.tcpState;
        socket.end('answer');
      });
    });
    const socket = lab.client.connect({ remoteAddress: SERVER_IP, remotePort: 80, fastOpen: { cookie: COOKIE }, segmentOptions: { suppressHandshakeAck: true } });
    const answer = readAll(socket);
    socket.write('question'); // no end() yet: a FIN would complete the handshake itself
    expect((await answer).toString()).toBe('answer');
    socket.end();
    expect(stateWhenAnswering).toBe('SYN-RECEIVED');
    const firstData = incoming(lab.segments).find((s) => s.tcp.payload.length > 0)!;
    const clientNonSynBefore = lab.segments
      .slice(0, lab.segments.indexOf(firstData))
      .filter((s) => s.direction === 'out' && !s.tcp.flags.syn);
    expect(clientNonSynBefore).toEqual([]);
  });

  it('a stale cookie: the data is not acknowledged, a fresh cookie comes back, the data goes again after the handshake', async () => {
    lab = createLabPair({ record: true });
    const got: Uint8Array[] = [];
    const request = Buffer.from('hello, stale cookie');
    const { echoed, accepted, socket } = await echo(lab, request, { cookie: STALE, onCookie: (c) => got.push(c) }, serverWith());
    expect(echoed).toEqual(request);
    const [syn, ...rest] = outgoing(lab.segments);
    expect(Buffer.from(syn!.tcp.payload)).toEqual(request);
    const synAck = incoming(lab.segments).find((s) => s.tcp.flags.syn)!.tcp;
    expect(synAck.acknowledgmentNumber).toBe(seqAdd(syn!.tcp.sequenceNumber, 1));
    expect(got).toEqual([COOKIE]);
    expect(rest.some((s) => Buffer.from(s.tcp.payload).equals(request))).toBe(true);
    expect(accepted.stateAtHandOut).toBe('ESTABLISHED');
    expect(socket.synDataAccepted).toBe(false);
  });

  it('no cookie: data without an option, taken by a server that needs none (TFO_SERVER_COOKIE_NOT_REQD), refused by one that does', async () => {
    lab = createLabPair({ record: true });
    const request = Buffer.from('no cookie at all');
    const taken = await echo(lab, request, { withoutCookie: true }, serverWith(false));
    expect(taken.echoed).toEqual(request);
    const syn = outgoing(lab.segments)[0]!.tcp;
    expect(cookieIn(syn.options)).toBeUndefined();
    expect(Buffer.from(syn.payload)).toEqual(request);
    expect(taken.accepted.stateAtHandOut).toBe('SYN-RECEIVED');
    expect(taken.socket.synDataAccepted).toBe(true);
    lab.close();

    lab = createLabPair({ record: true });
    const refused = await echo(lab, request, { withoutCookie: true }, serverWith(true));
    expect(refused.echoed).toEqual(request);
    expect(refused.accepted.stateAtHandOut).toBe('ESTABLISHED');
    expect(refused.socket.synDataAccepted).toBe(false);
  });

  it('a server without Fast Open ignores the SYN data; the client sends it again', async () => {
    lab = createLabPair({ record: true });
    const request = Buffer.from('plain server');
    const { echoed, socket } = await echo(lab, request, { cookie: COOKIE }, undefined);
    expect(echoed).toEqual(request);
    expect(socket.synDataAccepted).toBe(false);
  });

  it('a lost SYN: the retransmitted SYN carries no data, which follows the handshake', async () => {
    let dropped = 0;
    lab = createLabPair({
      record: true,
      link: {
        aToB: {
          // The first frame big enough to be the SYN with data (ARP is 42 bytes, a bare SYN 66).
          dropFrame: (frame) => frame.length > 80 && dropped++ === 0,
        },
      },
    });
    const request = Buffer.from('x'.repeat(100));
    const { echoed, accepted, socket } = await echo(lab, request, { cookie: COOKIE }, serverWith());
    expect(dropped).toBeGreaterThan(0);
    expect(echoed).toEqual(request);
    const syns = outgoing(lab.segments).filter((s) => s.tcp.flags.syn);
    expect(syns.length).toBe(2);
    expect(syns[0]!.tcp.payload.length).toBe(100);
    expect(syns[1]!.tcp.payload.length).toBe(0);
    expect(cookieIn(syns[1]!.tcp.options)).toEqual(COOKIE);
    // A cookie SYN without data still makes a Fast Open child on Linux (foc->len >= 0); here too.
    expect(accepted.stateAtHandOut).toBe('SYN-RECEIVED');
    expect(socket.synDataAccepted).toBe(false);
  });

  it('TOA placements with a data-carrying SYN: "syn" and "first-data" both put TOA in that SYN', async () => {
    const CLIENT = { address: '198.51.100.7', port: 40001 };
    for (const placement of [['syn'], ['first-data']] as const) {
      lab = createLabPair({ record: true });
      const request = Buffer.from('GET / HTTP/1.1\r\n\r\n');
      const { echoed } = await echo(lab, request, { cookie: COOKIE }, serverWith(), toaSegmentOptions({ client: CLIENT, placement: [...placement] }));
      expect(echoed).toEqual(request);
      const [syn, ...rest] = outgoing(lab.segments);
      expect(findToaOption(syn!.tcp.options), placement[0]).toEqual({ kind: 254, family: 4, ...CLIENT });
      expect(cookieIn(syn!.tcp.options)).toEqual(COOKIE);
      expect(rest.every((s) => findToaOption(s.tcp.options) === undefined)).toBe(true);
      lab.close();
      lab = undefined;
    }
  });

  it('any request size, cookie mode and server: the echo is exact, and SYN data is taken exactly when it should be', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6000 }),
        fc.constantFrom<'request' | 'valid' | 'stale' | 'none'>('request', 'valid', 'stale', 'none'),
        fc.constantFrom<'required' | 'not-required' | 'off'>('required', 'not-required', 'off'),
        async (size, mode, serverMode) => {
          const pair = createLabPair();
          try {
            const request = Buffer.alloc(size, 0x61 + (size % 26));
            const client: TcpFastOpenConnect =
              mode === 'request' ? {} : mode === 'valid' ? { cookie: COOKIE } : mode === 'stale' ? { cookie: STALE } : { withoutCookie: true };
            const server = serverMode === 'off' ? undefined : serverWith(serverMode === 'required');
            const { echoed, socket } = await echo(pair, request, client, server);
            expect(echoed).toEqual(request);
            const taken =
              serverMode === 'not-required' ? mode !== 'request' : serverMode === 'required' ? mode === 'valid' : false;
            expect(socket.synDataAccepted).toBe(taken);
          } finally {
            pair.close();
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});
