import { afterEach, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { once } from 'node:events';
import { FullNatBalancer } from '../../../../harness/net/balancer/fullnat.ts';
import { findToaOption } from '../../../../harness/net/codec/toa-option.ts';
import { createFrameRecorder } from '../../../../harness/net/wire/frame-tap.ts';
import { createMemoryWirePair } from '../../../../harness/net/wire/memory-wire.ts';
import { decodeTcpFrame, FAST_ARP, FAST_TIMERS, until } from '../helpers/lab-pair.ts';
import { ToyBackend } from '../helpers/toy-backend.ts';

/**
 * The `first-data-fin` scenario needs the balancer's first data segment to carry FIN. Relaying
 * as a stream, that happens only if the client's bytes and FIN beat the backend's SYN-ACK; with
 * `holdClientDataUntilFin` it happens whatever the timing.
 */
describe('client data and FIN in one segment', () => {
  let balancer: FullNatBalancer | undefined;
  let backend: ToyBackend | undefined;
  afterEach(async () => {
    await balancer?.close();
    backend?.close();
  });

  async function requestAfterHandshake(hold: boolean): Promise<{ dataSegments: { fin: boolean; toa: boolean; length: number }[]; reply: string }> {
    const [balancerWire, backendWire] = createMemoryWirePair();
    backend = new ToyBackend(backendWire);
    const recorder = createFrameRecorder();
    balancer = await FullNatBalancer.start({
      wire: balancerWire,
      tcp: FAST_TIMERS,
      arp: FAST_ARP,
      tap: recorder.tap,
      toa: { placement: ['ack', 'first-data'] },
      holdClientDataUntilFin: hold,
    });
    const socket = connect({ host: '127.0.0.1', port: balancer.port, allowHalfOpen: true });
    let reply = '';
    socket.on('data', (chunk: Buffer) => (reply += chunk));
    const ended = once(socket, 'end'); // streaming, the answer (and its FIN) may come before ours
    await until(() => backend!.sockets.length === 1, 2000, 'the backend handshake'); // the worst case: handshake first
    socket.write('GET /?conn=7 HTTP/1.0\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 20));
    socket.end();
    await ended;
    socket.destroy();
    const dataSegments = recorder.frames
      .filter((f) => f.direction === 'out')
      .map((f) => decodeTcpFrame(f.frame)?.tcp)
      .filter((tcp) => tcp !== undefined && tcp.payload.length > 0)
      .map((tcp) => ({ fin: tcp!.flags.fin, toa: findToaOption(tcp!.options) !== undefined, length: tcp!.payload.length }));
    return { dataSegments, reply };
  }

  it('holding the bytes until the client FIN sends data+FIN+TOA in one segment', async () => {
    const { dataSegments, reply } = await requestAfterHandshake(true);
    expect(dataSegments).toEqual([{ fin: true, toa: true, length: 25 }]);
    expect(reply).toBe('HTTP/1.0 200 OK\r\n\r\nclient=198.51.100.1:40001');
    await until(() => balancer!.records[0]!.outcome !== 'open', 2000, 'the record to close');
    expect(balancer!.records[0]).toMatchObject({ outcome: 'closed', bytesToBackend: 25, clientHead: 'GET /?conn=7 HTTP/1.0\r\n\r\n' });
  });

  it('streaming (the default) sends the data at once and FIN on its own', async () => {
    const { dataSegments } = await requestAfterHandshake(false);
    expect(dataSegments).toEqual([{ fin: false, toa: true, length: 25 }]);
  });
});
