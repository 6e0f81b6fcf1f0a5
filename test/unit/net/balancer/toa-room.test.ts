import { afterEach, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { once } from 'node:events';
import { FullNatBalancer, type FullNatConnectionRecord } from '../../../../harness/net/balancer/fullnat.ts';
import { insertToa, fitsOptionsArea, type ToaInsertionRequest } from '../../../../harness/net/balancer/toa-room.ts';
import { serializeTcpOptions, parseTcpOptions, tcpOptionsLength, type TcpOption } from '../../../../harness/net/codec/tcp-options.ts';
import { findToaOption, toaTcpOption } from '../../../../harness/net/codec/toa-option.ts';
import { createMemoryWirePair } from '../../../../harness/net/wire/memory-wire.ts';
import { ToyBackend } from '../helpers/toy-backend.ts';
import { FAST_ARP, FAST_TIMERS } from '../helpers/lab-pair.ts';

const CLIENT = { address: '198.51.100.7', port: 40001 };
const FORGED = { address: '203.0.113.250', port: 4444 };
const TOA = toaTcpOption(CLIENT);
const NOP: TcpOption = { type: 'nop' };
const TS: TcpOption = { type: 'timestamps', value: 1, echoReply: 0 };
const sack = (n: number): TcpOption => ({ type: 'sack', blocks: Array.from({ length: n }, (_, i) => ({ left: 1000 * i, right: 1000 * i + 500 })) });
/** What a client with timestamps and three SACK blocks sends: exactly 40 bytes, no room left. */
const FULL_TS_SACK: TcpOption[] = [NOP, NOP, TS, NOP, NOP, sack(3)];
/** A forged TOA padded out to 40 bytes with timestamps and two SACK blocks. */
const FULL_FORGED: TcpOption[] = [toaTcpOption(FORGED), NOP, NOP, TS, NOP, NOP, sack(2)];

const request = (over: Partial<ToaInsertionRequest>): ToaInsertionRequest => ({
  toa: TOA,
  kind: 254,
  clientOptions: [],
  ownOptionsLength: 0,
  position: 'front',
  whenFull: 'skip',
  syn: false,
  ...over,
});

/** What a reader of the wire would take: the options as the segment carries them. */
const onWire = (options: TcpOption[]): TcpOption[] => parseTcpOptions(serializeTcpOptions(options));

describe('TOA among the client options (toa-room)', () => {
  it('the test shapes fill the 40-byte area exactly', () => {
    expect(tcpOptionsLength(FULL_TS_SACK)).toBe(40);
    expect(tcpOptionsLength(FULL_FORGED)).toBe(40);
    expect(fitsOptionsArea(0, FULL_TS_SACK)).toBe(true);
    expect(fitsOptionsArea(0, [TOA, ...FULL_TS_SACK])).toBe(false);
  });

  it('with room: TOA in front (LVS, DPVS) or after the client options; a forged TOA is forwarded as it is', () => {
    const forged = toaTcpOption(FORGED);
    const front = insertToa(request({ clientOptions: [forged] }));
    expect(front).toMatchObject({ toa: 'added', clientToaCleared: 0, pruned: [] });
    expect(findToaOption(onWire(front.options))).toMatchObject(CLIENT);
    const after = insertToa(request({ clientOptions: [forged], position: 'after-client-options' }));
    expect(after.toa).toBe('added');
    // A reader taking the first TOA takes the forged one here: the order matters.
    expect(findToaOption(onWire(after.options))).toMatchObject(FORGED);
  });

  it('counts the stack\'s own options (a SYN\'s MSS and window scale) against the room', () => {
    const thirty: TcpOption[] = [NOP, NOP, TS, NOP, NOP, sack(2)]; // 32 bytes
    expect(insertToa(request({ clientOptions: thirty })).toa).toBe('added');
    expect(insertToa(request({ clientOptions: thirty, ownOptionsLength: 8 })).toa).toBe('skipped-no-room');
  });

  it('skip (LVS): no TOA, the client options forwarded, nothing of the balancer added', () => {
    const result = insertToa(request({ clientOptions: FULL_TS_SACK }));
    expect(result).toEqual({ toa: 'skipped-no-room', options: FULL_TS_SACK, clientToaCleared: 0, pruned: [] });
    expect(findToaOption(onWire(result.options))).toBeUndefined();
  });

  it('skip: a forged TOA in a full area is cleared with NOPs, never forwarded', () => {
    const result = insertToa(request({ clientOptions: FULL_FORGED }));
    expect(result.toa).toBe('skipped-no-room');
    expect(result.clientToaCleared).toBe(1);
    expect(tcpOptionsLength(result.options)).toBe(40);
    expect(findToaOption(onWire(result.options))).toBeUndefined();
  });

  it('prune (DPVS): drops NOPs and SACK, keeps timestamps, then adds TOA in front', () => {
    const result = insertToa(request({ clientOptions: FULL_TS_SACK, whenFull: 'prune' }));
    expect(result.toa).toBe('added');
    expect(result.pruned).toEqual([sack(3)]);
    expect(result.options).toEqual([TOA, TS]);
    expect(findToaOption(onWire(result.options))).toMatchObject(CLIENT);
  });

  it('prune: clearing a forged TOA and NOPs makes room without dropping SACK', () => {
    const result = insertToa(request({ clientOptions: FULL_FORGED, whenFull: 'prune' }));
    expect(result).toMatchObject({ toa: 'added', clientToaCleared: 1, pruned: [] });
    expect(result.options).toEqual([TOA, TS, sack(2)]);
    expect(findToaOption(onWire(result.options))).toMatchObject(CLIENT);
  });

  it('prune on a SYN keeps what the handshake negotiates; skips when that alone leaves no room', () => {
    const negotiated: TcpOption[] = [{ type: 'mss', mss: 1460 }, { type: 'sack-permitted' }, TS, { type: 'window-scale', shift: 7 }];
    const padded = [...negotiated, { type: 'unknown', kind: 99, data: new Uint8Array(14) } as TcpOption]; // 19 + 16 = 35
    const kept = insertToa(request({ clientOptions: padded, whenFull: 'prune', syn: true }));
    expect(kept.toa).toBe('added');
    expect(kept.options).toEqual([TOA, ...negotiated]);
    const tooMuch = insertToa(request({ clientOptions: negotiated, whenFull: 'prune', syn: true, ownOptionsLength: 16 }));
    expect(tooMuch.toa).toBe('skipped-no-room');
    expect(tooMuch.options).toEqual(negotiated);
  });
});

describe('FULLNAT balancer forwarding client options', () => {
  let balancer: FullNatBalancer | undefined;
  let backend: ToyBackend | undefined;
  afterEach(async () => {
    await balancer?.close();
    backend?.close();
  });

  async function oneConnection(toa: Parameters<typeof FullNatBalancer.start>[0]['toa']): Promise<{ record: FullNatConnectionRecord; seen: ToyBackend['log'][number] | undefined }> {
    const [balancerWire, backendWire] = createMemoryWirePair();
    backend = new ToyBackend(backendWire);
    balancer = await FullNatBalancer.start({ wire: balancerWire, tcp: FAST_TIMERS, arp: FAST_ARP, toa, chooseClient: () => CLIENT });
    const closed = once(balancer, 'connection-closed');
    const socket = connect({ host: '127.0.0.1', port: balancer.port });
    socket.resume();
    socket.end('GET / HTTP/1.0\r\n\r\n');
    const [record] = (await closed) as [FullNatConnectionRecord];
    return { record, seen: backend.log[0] };
  }

  it('skip: the record says TOA was skipped for lack of room; the backend finds no TOA', async () => {
    const { record, seen } = await oneConnection({ clientOptions: FULL_FORGED, whenFull: 'skip' });
    // The handshake ACK and the first data (and their retransmissions on a busy machine), each cleared.
    const counts = record.toaSegments!;
    expect(counts.added).toBe(0);
    expect(counts.skippedNoRoom).toBeGreaterThanOrEqual(2);
    expect(counts.clientToaCleared).toBe(counts.skippedNoRoom);
    expect(seen?.toa).toBeUndefined();
  });

  it('prune: TOA added after pruning; the backend finds the balancer\'s client', async () => {
    const { record, seen } = await oneConnection({ clientOptions: FULL_TS_SACK, whenFull: 'prune' });
    const counts = record.toaSegments!;
    expect(counts.skippedNoRoom).toBe(0);
    expect(counts.added).toBeGreaterThanOrEqual(2);
    expect(counts.clientOptionsPruned).toBe(counts.added); // the SACK blocks, once a segment
    expect(seen?.toa).toMatchObject(CLIENT);
  });

  it('client options per injected client (balancers in series: the same client twice)', async () => {
    const { record, seen } = await oneConnection({ clientOptions: (c) => [toaTcpOption(c)], position: 'after-client-options' });
    expect(record.toaSegments).toMatchObject({ skippedNoRoom: 0, clientToaCleared: 0 });
    expect(record.toaSegments!.added).toBeGreaterThanOrEqual(2);
    expect(seen?.toa).toMatchObject(CLIENT);
  });
});
