/**
 * The ceiling of the harness's own network: how fast the userspace stack and the FULLNAT
 * balancer go with no VM in the way, over an in-memory wire to a userspace peer. Whatever a
 * scenario measures against a real guest is bounded by these numbers.
 *
 *   npx tsx bench/net-ceiling.ts                    # medians of stack, balancer and loopback, balancer / loopback
 *   npx tsx bench/net-ceiling.ts stack-ipv6,dsr     # other paths, comma-separated
 *   BENCH_NET_BASELINE=/tmp/main npx tsx bench/net-ceiling.ts balancer,loopback
 *                                                   # + another tree's balancer ("baseline"), interleaved run
 *                                                   #   by run with ours: before/after in one process
 *
 * Paths:
 * - `stack`: userspace client connection → memory wire → userspace server;
 * - `balancer`: node `net` client → 127.0.0.1 → FullNatBalancer (TOA on) → memory wire →
 *   userspace server — the lab's real data path, minus the guest;
 * - `stack-ipv6`: `stack` over IPv6 (2001:db8::2 → 2001:db8::10);
 * - `dsr`: node `net` client → 127.0.0.1 → DsrBalancer (a simulated client per connection,
 *   frames to the server's MAC, VIP 192.0.2.100 on the server) → memory wire → userspace server;
 * - `loopback`: node `net` client → 127.0.0.1 → node `net` server, both in this process: what
 *   node itself manages with no balancer at all — the yardstick for `balancer` (issue 13 asks
 *   for balancer ≥ 0.8 × loopback, measured in the same run);
 * - `node-relay`: node `net` client → 127.0.0.1 → a relay made of node's own sockets (a
 *   kernel TCP connection onwards per client, `pipe` both ways, the client's address read as
 *   the balancer reads it) → node `net` server: what a balancer built without the userspace
 *   stack would manage — a yardstick for `balancer`, not a lab path.
 * For each: short connections per second (connect, small request, small response, close) and
 * bulk MiB/s (one connection, client → server).
 */
import { connect as netConnect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DsrBalancer } from '../harness/net/balancer/dsr.ts';
import { FullNatBalancer } from '../harness/net/balancer/fullnat.ts';
import { NetworkHost } from '../harness/net/stack/network-host.ts';
import type { TcpSocket } from '../harness/net/stack/tcp-socket.ts';
import { createMemoryWirePair } from '../harness/net/wire/memory-wire.ts';
import { median } from './median.ts';

export interface NetCeilingOptions {
  /** Short connections per run (default 20,000). */
  shortConnections?: number;
  /** Short connections in flight at once (default 64). */
  concurrency?: number;
  /** Bytes sent in the bulk run (default 64 MiB). */
  bulkBytes?: number;
  /** Runs per measurement; the median is reported (default 5). */
  runs?: number;
  /** Which paths to measure (default stack, balancer and loopback). */
  paths?: readonly NetCeilingPath[];
}

export type NetCeilingPath = 'stack' | 'balancer' | 'stack-ipv6' | 'dsr' | 'loopback' | 'node-relay';
export const NET_CEILING_PATHS: readonly NetCeilingPath[] = ['stack', 'balancer', 'stack-ipv6', 'dsr', 'loopback', 'node-relay'];

export interface NetCeilingFigures {
  connectionsPerSecond: number;
  bulkMiBPerSecond: number;
  /** Every run, for the curious (medians are taken from these). */
  runs: { connectionsPerSecond: number[]; bulkMiBPerSecond: number[] };
}

export type NetCeilingResult = Partial<Record<NetCeilingPath, NetCeilingFigures>>;

const REQUEST = Buffer.from('GET / HTTP/1.0\r\nHost: 192.0.2.10\r\n\r\n');
const RESPONSE = Buffer.from('HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok');
const MiB = 1024 * 1024;

/**
 * The server side of every path: answers a request and closes, or counts a bulk upload. It has
 * the DSR VIP too, as a backend has it on `lo`, and an IPv6 address.
 */
function startPeer(wire: ReturnType<typeof createMemoryWirePair>[1]): NetworkHost {
  const host = new NetworkHost({
    wire,
    mac: '52:54:00:12:34:56',
    addresses: ['192.0.2.10', '192.0.2.100', '2001:db8::10'],
    tcp: { timeWaitMs: 500 },
  });
  host.listen({ port: 80 }, (socket) => {
    socket.on('error', () => {});
    socket.once('data', () => socket.end(RESPONSE));
    socket.resume();
  });
  host.listen({ port: 9 }, (socket) => {
    socket.on('error', () => {});
    socket.resume();
    socket.on('end', () => socket.end());
  });
  return host;
}

/** Runs `total` jobs with at most `concurrency` at a time; resolves with the elapsed seconds. */
async function timedPool(total: number, concurrency: number, job: () => Promise<void>): Promise<number> {
  let started = 0;
  const start = process.hrtime.bigint();
  const worker = async (): Promise<void> => {
    while (started < total) {
      started++;
      await job();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function shortViaStack(client: NetworkHost, server: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket: TcpSocket = client.connect({ remoteAddress: server, remotePort: 80 });
    socket.on('error', reject);
    socket.on('data', () => {});
    socket.on('end', () => resolve());
    socket.end(REQUEST);
  });
}

function shortViaBalancer(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: '127.0.0.1', port, noDelay: true });
    socket.on('error', reject);
    socket.on('data', () => {});
    socket.on('end', () => resolve());
    socket.end(REQUEST);
  });
}

async function bulk(open: () => NodeJS.WritableStream & NodeJS.ReadableStream, bytes: number): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024, 0x5a);
  const start = process.hrtime.bigint();
  await new Promise<void>((resolve, reject) => {
    const socket = open();
    socket.on('error', reject);
    socket.on('data', () => {});
    socket.on('end', () => resolve());
    let sent = 0;
    const pump = (): void => {
      while (sent < bytes) {
        sent += chunk.length;
        if (!socket.write(chunk)) return void socket.once('drain', pump);
      }
      socket.end();
    };
    pump();
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return bytes / MiB / seconds;
}

/** The same request/response and bulk sink as `startPeer`, served by node's own `net` on 127.0.0.1. */
async function startLoopbackPeer(): Promise<{ shortPort: number; bulkPort: number; close: () => Promise<void> }> {
  const listen = (onSocket: (socket: Socket) => void): Promise<Server> =>
    new Promise((resolve) => {
      const server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
        socket.on('error', () => {});
        onSocket(socket);
      });
      server.listen({ host: '127.0.0.1', port: 0 }, () => resolve(server));
    });
  const short = await listen((socket) => {
    socket.once('data', () => socket.end(RESPONSE));
    socket.resume();
  });
  const sink = await listen((socket) => {
    socket.resume();
    socket.on('end', () => socket.end());
  });
  const portOf = (server: Server): number => (server.address() as AddressInfo).port;
  return {
    shortPort: portOf(short),
    bulkPort: portOf(sink),
    close: () => Promise.all([short, sink].map((s) => new Promise<void>((resolve) => s.close(() => resolve())))).then(() => {}),
  };
}

/** Relays every client on 127.0.0.1 to `port` over a kernel TCP connection of its own. */
async function startNodeRelay(port: number): Promise<{ port: number; close: () => Promise<void> }> {
  const server = createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    const backend = netConnect({ host: '127.0.0.1', port, noDelay: true, allowHalfOpen: true });
    client.on('error', () => backend.destroy());
    backend.on('error', () => client.destroy());
    void client.remoteAddress; // the balancer's record reads it too
    client.pipe(backend);
    backend.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function measurePath(path: NetCeilingPath, options: Required<NetCeilingOptions>): Promise<NetCeilingFigures> {
  const connectionsPerSecond: number[] = [];
  const bulkMiBPerSecond: number[] = [];
  for (let run = 0; run < options.runs; run++) {
    if (path === 'loopback') {
      const peer = await startLoopbackPeer();
      try {
        const seconds = await timedPool(options.shortConnections, options.concurrency, () => shortViaBalancer(peer.shortPort));
        connectionsPerSecond.push(options.shortConnections / seconds);
        bulkMiBPerSecond.push(await bulk(() => netConnect({ host: '127.0.0.1', port: peer.bulkPort }), options.bulkBytes));
      } finally {
        await peer.close();
      }
      continue;
    }
    if (path === 'node-relay') {
      const peer = await startLoopbackPeer();
      const [shortRelay, bulkRelay] = await Promise.all([startNodeRelay(peer.shortPort), startNodeRelay(peer.bulkPort)]);
      try {
        const seconds = await timedPool(options.shortConnections, options.concurrency, () => shortViaBalancer(shortRelay.port));
        connectionsPerSecond.push(options.shortConnections / seconds);
        bulkMiBPerSecond.push(await bulk(() => netConnect({ host: '127.0.0.1', port: bulkRelay.port }), options.bulkBytes));
      } finally {
        await Promise.all([shortRelay.close(), bulkRelay.close()]);
        await peer.close();
      }
      continue;
    }
    // A fresh lab per run so TIME-WAIT entries from the previous run do not carry over.
    const [clientWire, peerWire] = createMemoryWirePair();
    const peer = startPeer(peerWire);
    try {
      if (path === 'stack' || path === 'stack-ipv6') {
        const [own, server] = path === 'stack' ? ['192.0.2.2', '192.0.2.10'] : ['2001:db8::2', '2001:db8::10'];
        const client = new NetworkHost({ wire: clientWire, mac: '52:54:00:00:02:02', addresses: own });
        try {
          const seconds = await timedPool(options.shortConnections, options.concurrency, () => shortViaStack(client, server));
          connectionsPerSecond.push(options.shortConnections / seconds);
          bulkMiBPerSecond.push(await bulk(() => client.connect({ remoteAddress: server, remotePort: 9 }), options.bulkBytes));
        } finally {
          client.close();
        }
      } else if (path === 'balancer') {
        const balancer = await FullNatBalancer.start({ wire: clientWire });
        try {
          const seconds = await timedPool(options.shortConnections, options.concurrency, () => shortViaBalancer(balancer.port));
          connectionsPerSecond.push(options.shortConnections / seconds);
          const bulkBalancer = await FullNatBalancer.start({ host: balancer.host, backend: { address: '192.0.2.10', port: 9 } });
          try {
            bulkMiBPerSecond.push(await bulk(() => netConnect({ host: '127.0.0.1', port: bulkBalancer.port }), options.bulkBytes));
          } finally {
            await bulkBalancer.close();
          }
        } finally {
          await balancer.close();
        }
      } else {
        const balancer = await DsrBalancer.start({ wire: clientWire });
        try {
          const seconds = await timedPool(options.shortConnections, options.concurrency, () => shortViaBalancer(balancer.port));
          connectionsPerSecond.push(options.shortConnections / seconds);
          // A client address of its own: the short run's simulated clients may still be in TIME-WAIT.
          const bulkBalancer = await DsrBalancer.start({
            host: balancer.host,
            vip: { address: '192.0.2.100', port: 9 },
            chooseClient: () => ({ address: '203.0.113.250', port: 9999 }),
          });
          try {
            bulkMiBPerSecond.push(await bulk(() => netConnect({ host: '127.0.0.1', port: bulkBalancer.port }), options.bulkBytes));
          } finally {
            await bulkBalancer.close();
          }
        } finally {
          await balancer.close();
        }
      }
    } finally {
      peer.close();
      await clientWire.close();
    }
  }
  return {
    connectionsPerSecond: Math.round(median(connectionsPerSecond)),
    bulkMiBPerSecond: Math.round(median(bulkMiBPerSecond)),
    runs: {
      connectionsPerSecond: connectionsPerSecond.map(Math.round),
      bulkMiBPerSecond: bulkMiBPerSecond.map(Math.round),
    },
  };
}

export async function measureNetCeiling(options: NetCeilingOptions = {}): Promise<NetCeilingResult> {
  const resolved: Required<NetCeilingOptions> = {
    shortConnections: options.shortConnections ?? 20_000,
    concurrency: options.concurrency ?? 64,
    bulkBytes: options.bulkBytes ?? 64 * MiB,
    runs: options.runs ?? 5,
    paths: options.paths ?? ['stack', 'balancer', 'loopback'],
  };
  // Runs interleave the paths (one run of each, then again), so a burst of load on the shared
  // host hits every path alike and ratios between them (balancer / loopback) stay fair.
  const runs = new Map<NetCeilingPath, { connectionsPerSecond: number[]; bulkMiBPerSecond: number[] }>();
  for (let run = 0; run < resolved.runs; run++) {
    for (const path of resolved.paths) {
      const figures = await measurePath(path, { ...resolved, runs: 1 });
      const soFar = runs.get(path) ?? { connectionsPerSecond: [], bulkMiBPerSecond: [] };
      soFar.connectionsPerSecond.push(...figures.runs.connectionsPerSecond);
      soFar.bulkMiBPerSecond.push(...figures.runs.bulkMiBPerSecond);
      runs.set(path, soFar);
    }
  }
  const result: NetCeilingResult = {};
  for (const [path, measured] of runs) {
    result[path] = {
      connectionsPerSecond: Math.round(median(measured.connectionsPerSecond)),
      bulkMiBPerSecond: Math.round(median(measured.bulkMiBPerSecond)),
      runs: measured,
    };
  }
  return result;
}

/**
 * The most `balancer / loopback` could be with a relay that cost nothing: the balancer's side
 * facing the client is the loopback path's server (same node work), and behind it come a
 * userspace client and a userspace server — the `stack` path. Per connection, balancer ≥
 * loopback + stack, so the ratio is at most stack / (stack + loopback) in conn/s.
 */
export function freeRelayBound(stackPerSecond: number, loopbackPerSecond: number): number {
  return stackPerSecond / (stackPerSecond + loopbackPerSecond);
}

/**
 * `balancer` as measured by another toa-lab tree (e.g. a checkout of main), imported into this
 * process beside ours: `BENCH_NET_BASELINE=/path/to/tree`. Its runs interleave with ours, so a
 * before/after comparison shares every burst of load on the host.
 */
async function loadBaseline(tree: string): Promise<(options: NetCeilingOptions) => Promise<NetCeilingResult>> {
  const url = pathToFileURL(join(resolve(tree), 'bench/net-ceiling.ts')).href;
  const module = (await import(url)) as { measureNetCeiling: typeof measureNetCeiling };
  return module.measureNetCeiling;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const paths = process.argv[2]?.split(',') as NetCeilingPath[] | undefined;
  const unknown = paths?.filter((p) => !NET_CEILING_PATHS.includes(p)) ?? [];
  if (unknown.length > 0) throw new Error(`unknown path(s) ${unknown.join(', ')}; expected some of ${NET_CEILING_PATHS.join(', ')}`);
  const baselineTree = process.env.BENCH_NET_BASELINE;
  const rows = new Map<string, NetCeilingFigures['runs']>();
  const add = (label: string, figures: NetCeilingFigures): void => {
    const soFar = rows.get(label) ?? { connectionsPerSecond: [], bulkMiBPerSecond: [] };
    soFar.connectionsPerSecond.push(...figures.runs.connectionsPerSecond);
    soFar.bulkMiBPerSecond.push(...figures.runs.bulkMiBPerSecond);
    rows.set(label, soFar);
  };
  if (baselineTree === undefined) {
    const result = await measureNetCeiling(paths ? { paths } : {});
    for (const [path, figures] of Object.entries(result)) add(path, figures);
  } else {
    // One run of each path, then the baseline's balancer, and again: all interleaved.
    const baseline = await loadBaseline(baselineTree);
    const ours = paths ?? ['stack', 'balancer', 'loopback'];
    for (let run = 0; run < 5; run++) {
      for (const path of ours) add(path, (await measureNetCeiling({ paths: [path], runs: 1 }))[path]!);
      add('baseline', (await baseline({ paths: ['balancer'], runs: 1 })).balancer!);
    }
  }
  for (const [label, runs] of rows) {
    console.log(
      `${label.padEnd(9)} ${String(Math.round(median(runs.connectionsPerSecond))).padStart(7)} conn/s ` +
        `(runs ${runs.connectionsPerSecond.join(', ')})   ` +
        `${String(Math.round(median(runs.bulkMiBPerSecond))).padStart(5)} MiB/s (runs ${runs.bulkMiBPerSecond.join(', ')})`,
    );
  }
  const loopback = rows.get('loopback')?.connectionsPerSecond;
  for (const label of ['balancer', 'baseline', 'node-relay']) {
    const measured = rows.get(label)?.connectionsPerSecond;
    if (!measured || !loopback) continue;
    const ratios = measured.map((value, i) => value / loopback[i]!);
    console.log(`${label} / loopback: ×${median(ratios).toFixed(2)} median of per-run ratios ${ratios.map((r) => r.toFixed(2)).join(', ')} (goal ≥ ×0.8)`);
  }
  const stack = rows.get('stack')?.connectionsPerSecond;
  if (stack && loopback) {
    const bounds = stack.map((value, i) => freeRelayBound(value, loopback[i]!));
    console.log(`free-relay bound (loopback + stack per connection): ×${median(bounds).toFixed(2)} (per run ${bounds.map((b) => b.toFixed(2)).join(', ')})`);
  }
}
