import { ipFamilyOf, normalizeIpAddress, type IpFamily } from '../codec/address.ts';
import { NO_TCP_FLAGS, type TcpSegment } from '../codec/tcp.ts';
import { EphemeralPortAllocator } from './ephemeral-ports.ts';
import type { TcpFastOpenConnect, TcpFastOpenServer } from './fast-open.ts';
import type { HostAddresses } from './host-addresses.ts';
import type { SegmentOptionsHook } from './segment-options-hook.ts';
import { seqAdd } from './sequence-numbers.ts';
import { ConnectionTable } from './connection-table.ts';
import { TcpConnection, type TcpEndpoints, type TcpSegmentSender } from './tcp-connection.ts';
import type { TcpErrorCode } from './tcp-errors.ts';
import { TcpSocket } from './tcp-socket.ts';
import { resolveTcpTuning, type TcpTuning } from './tcp-tuning.ts';

export interface TcpConnectOptions {
  /** IPv4 or IPv6. */
  remoteAddress: string;
  remotePort: number;
  /** Defaults to the host's first address of the remote's family. */
  localAddress?: string;
  /** Defaults to a free ephemeral port. */
  localPort?: number;
  /** Extra options per segment (the balancer's TOA policy). */
  segmentOptions?: SegmentOptionsHook;
  /** Overrides of the host's TCP tuning for this connection. */
  tuning?: Partial<TcpTuning>;
  /**
   * Send the frames to this neighbour's MAC instead of resolving the remote address: DSR,
   * where the remote is the VIP and the next hop is the backend's own address on the segment.
   */
  nextHop?: string;
  /** TCP Fast Open (RFC 7413): the SYN waits for the first write and may carry it (fast-open.ts). */
  fastOpen?: TcpFastOpenConnect;
}

export interface TcpListenOptions {
  port: number;
  /** Listen on one of the host's addresses only; default all. */
  address?: string;
  /** Overrides of the host's TCP tuning for accepted connections (e.g. a tiny MSS or window). */
  tuning?: Partial<TcpTuning>;
  segmentOptions?: SegmentOptionsHook;
  /** Accept Fast Open SYNs: the socket is handed out on the SYN, with its data (fast-open.ts). */
  fastOpen?: TcpFastOpenServer;
}

export interface TcpListener {
  readonly port: number;
  readonly address: string | undefined;
  close(): void;
}

interface ListenerEntry extends TcpListener {
  /** Accepted connections' tuning, per family (the MSS differs). */
  readonly tuning: Record<IpFamily, TcpTuning>;
  readonly segmentOptions: SegmentOptionsHook | undefined;
  readonly fastOpen: TcpFastOpenServer | undefined;
  readonly onConnection: (socket: TcpSocket) => void;
}

const ANY_ADDRESS = '*';
const RST = Object.freeze({ ...NO_TCP_FLAGS, rst: true });
const RST_ACK = Object.freeze({ ...NO_TCP_FLAGS, rst: true, ack: true });
const EMPTY = new Uint8Array(0);

/** How a 4-tuple reads in an error message. */
function describeEndpoints(localAddress: string, localPort: number, remoteAddress: string, remotePort: number): string {
  return `${localAddress}:${localPort}>${remoteAddress}:${remotePort}`;
}
function portKey(address: string, port: number): string {
  return `${address}:${port}`;
}

/**
 * TCP demultiplexing for one host: the connection table, listeners, ephemeral ports, and the
 * RST answer for segments that belong to nothing (RFC 9293 §3.10.7.1).
 */
export class TcpEngine {
  private readonly connections = new ConnectionTable();
  private readonly listeners = new Map<string, ListenerEntry>();
  private readonly ports = new EphemeralPortAllocator();

  constructor(
    private readonly sendSegment: TcpSegmentSender,
    private readonly localAddresses: HostAddresses,
    /** The host's tuning for each family (they differ in MSS). */
    private readonly tuning: Record<IpFamily, TcpTuning>,
  ) {}

  get connectionCount(): number {
    return this.connections.size;
  }

  connect(options: TcpConnectOptions): TcpSocket {
    const remoteAddress = normalizeIpAddress(options.remoteAddress);
    const family = ipFamilyOf(remoteAddress);
    const localAddress = this.localAddressFor(remoteAddress, options.localAddress);
    const nextHop = options.nextHop === undefined ? undefined : normalizeIpAddress(options.nextHop);
    if (nextHop !== undefined && ipFamilyOf(nextHop) !== family) {
      throw new Error(`next hop ${nextHop} is not in the family of ${remoteAddress}`);
    }
    const remotePort = options.remotePort;
    // A port handed out by the allocator has just been claimed; a port asked for is claimed here.
    const localPort =
      options.localPort ??
      this.ports.allocate((port) => !this.isListening(localAddress, port) && this.claim(localAddress, port, remoteAddress, remotePort));
    if (options.localPort !== undefined && !this.claim(localAddress, localPort, remoteAddress, remotePort)) {
      throw new Error(`a connection ${describeEndpoints(localAddress, localPort, remoteAddress, remotePort)} already exists`);
    }
    const endpoints: TcpEndpoints =
      nextHop !== undefined && nextHop !== remoteAddress
        ? { localAddress, localPort, remoteAddress, remotePort, nextHop }
        : { localAddress, localPort, remoteAddress, remotePort };
    const base = this.tuning[family];
    const tuning = options.tuning ? resolveTcpTuning({ ...base, ...options.tuning }) : base;
    const { connection, socket } = this.register(endpoints, tuning, options.segmentOptions, 'SYN-SENT');
    connection.openActive(options.fastOpen);
    return socket;
  }

  /** The given local address (checked: ours, same family), or the host's default for the remote's family. */
  private localAddressFor(remoteAddress: string, requested: string | undefined): string {
    const family = ipFamilyOf(remoteAddress);
    const localAddress = requested === undefined ? this.localAddresses.defaultFor(family) : normalizeIpAddress(requested);
    if (localAddress === undefined) {
      throw new Error(`no IPv${family} address on this host to reach ${remoteAddress} from (${this.localAddresses.describe()})`);
    }
    if (!this.localAddresses.has(localAddress)) {
      throw new Error(`${localAddress} is not an address of this host (${this.localAddresses.describe()})`);
    }
    if (ipFamilyOf(localAddress) !== family) throw new Error(`cannot connect from ${localAddress} to ${remoteAddress}: different families`);
    return localAddress;
  }

  listen(options: TcpListenOptions, onConnection: (socket: TcpSocket) => void): TcpListener {
    const address = options.address === undefined ? ANY_ADDRESS : normalizeIpAddress(options.address);
    const key = portKey(address, options.port);
    if (this.listeners.has(key)) throw new Error(`already listening on ${key}`);
    const overrides = options.tuning;
    const tuningFor = (family: IpFamily): TcpTuning =>
      overrides ? resolveTcpTuning({ ...this.tuning[family], ...overrides }) : this.tuning[family];
    const entry: ListenerEntry = {
      port: options.port,
      address: options.address === undefined ? undefined : address,
      tuning: { 4: tuningFor(4), 6: tuningFor(6) },
      segmentOptions: options.segmentOptions,
      fastOpen: options.fastOpen,
      onConnection,
      close: () => {
        if (this.listeners.get(key) === entry) this.listeners.delete(key);
      },
    };
    this.listeners.set(key, entry);
    return entry;
  }

  receive(sourceAddress: string, destinationAddress: string, segment: TcpSegment): void {
    const f = segment.flags;
    const connection = this.connections.get(destinationAddress, segment.destinationPort, sourceAddress, segment.sourcePort);
    if (connection) {
      // A fresh SYN for a 4-tuple in TIME-WAIT is a new connection (the peer reused its port).
      if (connection.state === 'TIME-WAIT' && f.syn && !f.ack && !f.rst) connection.releaseTimeWait();
      else return connection.handleSegment(segment);
    }
    const endpoints: TcpEndpoints = {
      localAddress: destinationAddress,
      localPort: segment.destinationPort,
      remoteAddress: sourceAddress,
      remotePort: segment.sourcePort,
    };
    const listener =
      this.listeners.get(portKey(destinationAddress, segment.destinationPort)) ??
      this.listeners.get(portKey(ANY_ADDRESS, segment.destinationPort));
    if (listener && f.syn && !f.ack && !f.rst) {
      this.acceptSyn(listener, endpoints, segment);
      return;
    }
    this.answerWithReset(endpoints, segment);
  }

  /**
   * Fails connections still waiting for the handshake whose frames go to `neighbor` (their
   * remote address, or their next hop) — it never answered ARP / Neighbor Solicitation.
   */
  failHandshakesTo(neighbor: string, code: TcpErrorCode, message: string): void {
    for (const connection of [...this.connections.values()]) {
      const { remoteAddress, nextHop } = connection.endpoints;
      if ((nextHop ?? remoteAddress) === neighbor && connection.state === 'SYN-SENT') {
        connection.failWith(code, message);
      }
    }
  }

  /** Fails every connection (the wire or the host went away). */
  failAll(code: TcpErrorCode, message: string): void {
    for (const connection of [...this.connections.values()]) connection.failWith(code, message);
  }

  /** Aborts every connection with RST; their streams close without an error (host shutdown). */
  abortAll(): void {
    for (const connection of [...this.connections.values()]) connection.abortByHost();
  }

  closeListeners(): void {
    this.listeners.clear();
  }

  private acceptSyn(listener: ListenerEntry, endpoints: TcpEndpoints, syn: TcpSegment): void {
    const tuning = listener.tuning[ipFamilyOf(endpoints.localAddress)];
    const { connection, socket } = this.register(endpoints, tuning, listener.segmentOptions, 'SYN-RECEIVED');
    // A Fast Open SYN creates the connection: the application gets it now, as Linux's accept() does.
    // Otherwise it is handed out once the handshake completes (never inside openPassive).
    if (connection.openPassive(syn, listener.fastOpen)) listener.onConnection(socket);
    else socket.once('connect', () => listener.onConnection(socket));
  }

  /**
   * Whether a new connection may use these endpoints. Like Linux, ports are unique per 4-tuple
   * (the same ephemeral port may talk to different peers), and a 4-tuple left in our TIME-WAIT
   * is taken over (`tcp_tw_reuse`): at thousands of short connections per second, 16,384 ports
   * would otherwise all sit in TIME-WAIT.
   */
  private claim(localAddress: string, localPort: number, remoteAddress: string, remotePort: number): boolean {
    const existing = this.connections.get(localAddress, localPort, remoteAddress, remotePort);
    if (existing === undefined) return true;
    if (existing.state === 'TIME-WAIT') existing.releaseTimeWait();
    return this.connections.get(localAddress, localPort, remoteAddress, remotePort) === undefined;
  }

  private register(
    endpoints: TcpEndpoints,
    tuning: TcpTuning,
    segmentOptions: SegmentOptionsHook | undefined,
    initialState: 'SYN-SENT' | 'SYN-RECEIVED',
  ): { connection: TcpConnection; socket: TcpSocket } {
    const connection = new TcpConnection(
      endpoints,
      tuning,
      this.sendSegment,
      (closed) => this.connections.delete(closed),
      segmentOptions,
      initialState,
    );
    const socket = new TcpSocket(connection, tuning.sendBufferSize, tuning.receiveBufferSize, initialState === 'SYN-RECEIVED');
    this.connections.add(connection);
    return { connection, socket };
  }

  private isListening(address: string, port: number): boolean {
    if (this.listeners.size === 0) return false; // a balancer's host listens on nothing: no keys to build per port tried
    return this.listeners.has(portKey(address, port)) || this.listeners.has(portKey(ANY_ADDRESS, port));
  }

  /** RFC 9293 §3.10.7.1: a segment for no connection gets a RST (unless it is one). */
  private answerWithReset(endpoints: TcpEndpoints, segment: TcpSegment): void {
    const f = segment.flags;
    if (f.rst) return;
    const base = {
      sourcePort: endpoints.localPort,
      destinationPort: endpoints.remotePort,
      reservedBits: 0,
      window: 0,
      urgentPointer: 0,
      options: [],
    };
    if (f.ack) {
      this.sendSegment(endpoints, { ...base, sequenceNumber: segment.acknowledgmentNumber, acknowledgmentNumber: 0, flags: RST }, EMPTY);
    } else {
      const length = segment.payload.length + (f.syn ? 1 : 0) + (f.fin ? 1 : 0);
      this.sendSegment(
        endpoints,
        { ...base, sequenceNumber: 0, acknowledgmentNumber: seqAdd(segment.sequenceNumber, length), flags: RST_ACK },
        EMPTY,
      );
    }
  }
}
