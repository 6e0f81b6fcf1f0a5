import { createHash, randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { parseEthernetFrame, EtherType } from '../../../../harness/net/codec/ethernet.ts';
import { parseIpv4Packet, IpProtocol } from '../../../../harness/net/codec/ipv4.ts';
import { parseIpv6Packet } from '../../../../harness/net/codec/ipv6.ts';
import { parseTcpSegment, type TcpSegment } from '../../../../harness/net/codec/tcp.ts';
import { NetworkHost } from '../../../../harness/net/stack/network-host.ts';
import type { TcpTuning } from '../../../../harness/net/stack/tcp-tuning.ts';
import type { ArpTuning } from '../../../../harness/net/stack/neighbor-resolver.ts';
import type { FrameDirection } from '../../../../harness/net/wire/frame-tap.ts';
import { createMemoryWirePair, type MemoryWire, type MemoryWirePairOptions } from '../../../../harness/net/wire/memory-wire.ts';

export const CLIENT_IP = '192.0.2.2';
export const CLIENT_MAC = '52:54:00:00:02:02';
export const SERVER_IP = '192.0.2.10';
export const SERVER_MAC = '52:54:00:12:34:56';
export const CLIENT_IP6 = '2001:db8::2';
export const SERVER_IP6 = '2001:db8::10';

/** Fast timers so loss tests take milliseconds, not seconds. */
export const FAST_TIMERS: Partial<TcpTuning> = { initialRtoMs: 50, minRtoMs: 20, maxRtoMs: 400, timeWaitMs: 50 };
export const FAST_ARP: Partial<ArpTuning> = { requestIntervalMs: 30, maxRequests: 4 };

/** The IP layer of a decoded frame, either family: just what the tests look at. */
export interface DecodedIp {
  family: 4 | 6;
  source: string;
  destination: string;
  /** TTL or hop limit. */
  ttl: number;
}

export interface TappedSegment {
  direction: FrameDirection;
  ip: DecodedIp;
  tcp: TcpSegment;
}

export interface LabPair {
  client: NetworkHost;
  server: NetworkHost;
  clientWire: MemoryWire;
  serverWire: MemoryWire;
  /** TCP segments crossing the client's wire, in order (only when `record` is set). */
  segments: TappedSegment[];
  /** The largest frame either side sent. */
  largestFrame: () => number;
  close(): void;
}

/**
 * Two userspace hosts on one memory wire: the "client" (where the balancer would sit,
 * 192.0.2.2) and the "server" (where the guest would be, 192.0.2.10).
 */
export function createLabPair(
  options: {
    link?: MemoryWirePairOptions;
    clientTcp?: Partial<TcpTuning>;
    serverTcp?: Partial<TcpTuning>;
    arp?: Partial<ArpTuning>;
    record?: boolean;
    /** Default 192.0.2.2 / 192.0.2.10; give IPv6 (or both) addresses for IPv6 tests. */
    clientAddresses?: string[];
    serverAddresses?: string[];
  } = {},
): LabPair {
  const [clientWire, serverWire] = createMemoryWirePair(options.link);
  const segments: TappedSegment[] = [];
  let largest = 0;
  const client = new NetworkHost({
    wire: clientWire,
    mac: CLIENT_MAC,
    addresses: options.clientAddresses ?? CLIENT_IP,
    tcp: { ...FAST_TIMERS, ...options.clientTcp },
    arp: { ...FAST_ARP, ...options.arp },
    tap: (frame, direction) => {
      if (direction === 'out') largest = Math.max(largest, frame.length);
      if (!options.record) return;
      const segment = decodeTcpFrame(frame);
      if (segment) segments.push({ direction, ...segment });
    },
  });
  const server = new NetworkHost({
    wire: serverWire,
    mac: SERVER_MAC,
    addresses: options.serverAddresses ?? SERVER_IP,
    tcp: { ...FAST_TIMERS, ...options.serverTcp },
    arp: { ...FAST_ARP, ...options.arp },
    tap: (frame, direction) => {
      if (direction === 'out') largest = Math.max(largest, frame.length);
    },
  });
  return {
    client,
    server,
    clientWire,
    serverWire,
    segments,
    largestFrame: () => largest,
    close() {
      client.close();
      server.close();
    },
  };
}

/** The TCP segment in an IPv4 or IPv6 frame, with its addresses; `undefined` for anything else. */
export function decodeTcpFrame(frame: Uint8Array): { ip: DecodedIp; tcp: TcpSegment } | undefined {
  const ethernet = parseEthernetFrame(frame);
  if (ethernet.etherType === EtherType.ipv4) {
    const ip = parseIpv4Packet(ethernet.payload);
    if (ip.protocol !== IpProtocol.tcp) return undefined;
    return { ip: { family: 4, source: ip.source, destination: ip.destination, ttl: ip.ttl }, tcp: parseTcpSegment(ip.payload) };
  }
  if (ethernet.etherType === EtherType.ipv6) {
    const ip = parseIpv6Packet(ethernet.payload);
    if (ip.nextHeader !== IpProtocol.tcp) return undefined;
    return { ip: { family: 6, source: ip.source, destination: ip.destination, ttl: ip.hopLimit }, tcp: parseTcpSegment(ip.payload) };
  }
  return undefined;
}

export function isTcpFrame(frame: Uint8Array): boolean {
  return frame.length > 34 && frame[12] === 0x08 && frame[13] === 0x00 && frame[23] === IpProtocol.tcp;
}

/** Reads a stream to its end. */
export function readAll(stream: Duplex): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

/** Resolves with the stream's error (fails if it ends or closes cleanly instead). */
export function nextError(stream: Duplex): Promise<Error & { code?: string }> {
  return new Promise((resolve, reject) => {
    stream.once('error', resolve);
    stream.once('close', () => setImmediate(() => reject(new Error('closed without an error'))));
  });
}

export function closed(stream: Duplex): Promise<void> {
  return new Promise((resolve) => (stream.destroyed && stream.closed ? resolve() : stream.once('close', () => resolve())));
}

export const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');
export { randomBytes };

/** Waits until `condition` holds (polling), or fails after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
