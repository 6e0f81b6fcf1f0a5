import { afterEach, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { FullNatBalancer } from '../../../../harness/net/balancer/fullnat.ts';
import { FastOpenCookieJar, type BalancerFastOpen } from '../../../../harness/net/balancer/fast-open-cookies.ts';
import { findFastOpenOption } from '../../../../harness/net/codec/tcp-options.ts';
import { findToaOption } from '../../../../harness/net/codec/toa-option.ts';
import { NetworkHost } from '../../../../harness/net/stack/network-host.ts';
import type { TcpFastOpenServer } from '../../../../harness/net/stack/fast-open.ts';
import { createMemoryWirePair } from '../../../../harness/net/wire/memory-wire.ts';
import { decodeTcpFrame, FAST_ARP, FAST_TIMERS, readAll, SERVER_IP, SERVER_MAC, type TappedSegment } from '../helpers/lab-pair.ts';

const COOKIE = Uint8Array.of(9, 8, 7, 6, 5, 4, 3, 2);

interface Lab {
  balancer: FullNatBalancer;
  backend: NetworkHost;
  /** Segments the backend received. */
  received: TappedSegment[];
  /** Per accepted socket: its TCP state when handed out, and the first bytes it read. */
  accepted: { state: string; head: string }[];
}

/** A FULLNAT balancer in front of a userspace HTTP-ish echo backend with Fast Open on its listener. */
async function startLab(fastOpen: BalancerFastOpen, server: TcpFastOpenServer): Promise<Lab> {
  const [balancerWire, backendWire] = createMemoryWirePair();
  const received: TappedSegment[] = [];
  const backend = new NetworkHost({
    wire: backendWire,
    mac: SERVER_MAC,
    addresses: SERVER_IP,
    tcp: FAST_TIMERS,
    arp: FAST_ARP,
    tap: (frame, direction) => {
      const decoded = direction === 'in' ? decodeTcpFrame(frame) : undefined;
      if (decoded) received.push({ direction, ...decoded });
    },
  });
  const accepted: Lab['accepted'] = [];
  backend.listen({ port: 80, fastOpen: server }, (socket) => {
    const entry = { state: socket.tcpState, head: '' };
    accepted.push(entry);
    socket.once('data', (chunk: Buffer) => {
      entry.head = chunk.toString();
      socket.end(`echo ${chunk.toString()}`);
    });
    socket.on('error', () => {}); // the balancer's close() resets what is still open
  });
  const balancer = await FullNatBalancer.start({ wire: balancerWire, tcp: FAST_TIMERS, arp: FAST_ARP, fastOpen, toa: { placement: ['ack', 'first-data'] } });
  return { balancer, backend, received, accepted };
}

async function get(port: number, text: string): Promise<string> {
  const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  socket.write(text);
  const response = await readAll(socket);
  socket.end();
  return response.toString();
}

describe('FULLNAT balancer with TCP Fast Open', () => {
  let lab: Lab | undefined;
  afterEach(async () => {
    await lab?.balancer.close();
    lab?.backend.close();
    lab = undefined;
  });

  it('cookie mode: asks once, then sends the cookie, the request and TOA in each SYN', async () => {
    const cookies = new FastOpenCookieJar();
    lab = await startLab({ mode: 'cookie', cookies }, { cookieFor: () => COOKIE });
    expect(await get(lab.balancer.port, 'GET /?conn=0')).toBe('echo GET /?conn=0');
    expect(cookies.get(SERVER_IP)).toEqual(COOKIE);
    expect(await get(lab.balancer.port, 'GET /?conn=1')).toBe('echo GET /?conn=1');
    expect(lab.balancer.records.map((r) => r.fastOpen)).toEqual([
      { syn: 'cookie-request', synDataAccepted: false },
      { syn: 'cookie', synDataAccepted: true },
    ]);
    expect(lab.accepted).toEqual([
      { state: 'ESTABLISHED', head: 'GET /?conn=0' },
      { state: 'SYN-RECEIVED', head: 'GET /?conn=1' },
    ]);
    const syns = lab.received.filter((s) => s.tcp.flags.syn);
    expect(syns.map((s) => Buffer.from(s.tcp.payload).toString())).toEqual(['', 'GET /?conn=1']);
    expect(syns.map((s) => findFastOpenOption(s.tcp.options)?.length)).toEqual([0, 8]);
    // "first-data" is the SYN when the SYN carries the first byte.
    expect(findToaOption(syns[0]!.tcp.options)).toBeUndefined();
    expect(findToaOption(syns[1]!.tcp.options)).toMatchObject({ address: '198.51.100.2' });
  });

  it('no-cookie mode: the request in every SYN, no option (for TFO_SERVER_COOKIE_NOT_REQD)', async () => {
    lab = await startLab({ mode: 'no-cookie' }, { cookieFor: () => COOKIE, cookieRequired: false });
    expect(await get(lab.balancer.port, 'GET /?conn=0')).toBe('echo GET /?conn=0');
    expect(lab.balancer.records[0]!.fastOpen).toEqual({ syn: 'no-cookie', synDataAccepted: true });
    const syn = lab.received.find((s) => s.tcp.flags.syn)!;
    expect(findFastOpenOption(syn.tcp.options)).toBeUndefined();
    expect(lab.accepted).toEqual([{ state: 'SYN-RECEIVED', head: 'GET /?conn=0' }]);
  });
});
