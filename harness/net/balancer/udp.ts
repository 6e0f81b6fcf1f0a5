import { createSocket, type RemoteInfo, type Socket as DgramSocket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { ipFamilyOf, normalizeIpAddress } from '../codec/address.ts';
import type { NetworkHost } from '../stack/network-host.ts';
import type { UdpRemoteInfo, UdpSocket } from '../stack/udp-socket.ts';
import { attachBalancerHost, type BalancerAttachment } from './balancer-host.ts';
import { DEFAULT_BALANCER_ADDRESS, DEFAULT_BALANCER_ADDRESS_V6 } from './fullnat.ts';

export type UdpBalancerOptions = BalancerAttachment & {
  /** The backend's address (IPv4 or IPv6) and UDP port. */
  backend: { address: string; port: number };
  /** The balancer's address on the segment (default 192.0.2.2, or 2001:db8::2 for an IPv6 backend). */
  address?: string;
  /** Where clients send (default 127.0.0.1, ephemeral port). */
  listen?: { host?: string; port?: number };
  /** A session is forgotten after this long without a datagram either way (default 30 s, like a NAT table). */
  idleTimeoutMs?: number;
};

/** How a session ended. */
export type UdpSessionOutcome = 'open' | 'idle-timeout' | 'balancer-closed';

/** One client (address:port on 127.0.0.1) and the balancer port relaying for it. */
export interface UdpSessionRecord {
  id: number;
  client: { address: string; port: number };
  /** Our side towards the backend: the only source the backend can see (UDP has no TOA). */
  balancer: { address: string; port: number };
  backend: { address: string; port: number };
  datagramsToBackend: number;
  bytesToBackend: number;
  datagramsFromBackend: number;
  bytesFromBackend: number;
  /** Datagrams from the client that could not be sent (too big for the MTU: the lab does not fragment). */
  datagramsDropped: number;
  openedAt: number;
  lastActivityAt: number;
  closedAt: number | undefined;
  outcome: UdpSessionOutcome;
  error: string | undefined;
}

interface UdpBalancerEvents {
  session: [record: UdpSessionRecord];
  'session-closed': [record: UdpSessionRecord];
}

interface Session {
  record: UdpSessionRecord;
  socket: UdpSocket;
  idleTimer: NodeJS.Timeout;
}

/**
 * A FULLNAT relay for UDP: each client address:port sending to the 127.0.0.1 socket gets a
 * session — a UDP port of its own on the balancer's lab address — and its datagrams go to the
 * backend from there; the backend's answers to that port go back to the client. There is no
 * TOA for UDP (the Huawei guide says so), so the backend's log shows the balancer's address:
 * the `udp` scenario documents exactly that.
 *
 *   const lb = await UdpBalancer.start({ host, backend: { address: '192.0.2.10', port: 5300 } });
 *   const client = dgram.createSocket('udp4');
 *   client.send('ping', lb.port, '127.0.0.1');   // backend logs udp peer=192.0.2.2:<port>
 */
export class UdpBalancer extends EventEmitter<UdpBalancerEvents> {
  readonly host: NetworkHost;
  readonly address: string;
  readonly backend: { address: string; port: number };
  readonly records: UdpSessionRecord[] = [];
  private readonly ownsHost: boolean;
  private readonly idleTimeoutMs: number;
  private readonly sessions = new Map<string, Session>();
  private server: DgramSocket | undefined;
  private sessionsOpened = 0;

  private constructor(options: UdpBalancerOptions) {
    super();
    this.backend = { address: normalizeIpAddress(options.backend.address), port: options.backend.port };
    const family = ipFamilyOf(this.backend.address);
    this.address = normalizeIpAddress(options.address ?? (family === 4 ? DEFAULT_BALANCER_ADDRESS : DEFAULT_BALANCER_ADDRESS_V6));
    if (ipFamilyOf(this.address) !== family) {
      throw new Error(`balancer address ${this.address} and backend ${this.backend.address} are of different families`);
    }
    const attached = attachBalancerHost(options, [this.address], undefined);
    this.host = attached.host;
    this.ownsHost = attached.ownsHost;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
  }

  static async start(options: UdpBalancerOptions): Promise<UdpBalancer> {
    const balancer = new UdpBalancer(options);
    const host = options.listen?.host ?? '127.0.0.1';
    const server = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    server.on('message', (data, remote) => balancer.fromClient(data, remote));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.bind({ address: host, port: options.listen?.port ?? 0 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // After binding, a send error to a client that went away is not fatal to the relay.
    server.on('error', () => {});
    balancer.server = server;
    return balancer;
  }

  /** The port clients send to on 127.0.0.1. */
  get port(): number {
    return this.server?.address().port ?? 0;
  }

  /** Ends every session, closes the 127.0.0.1 socket, and detaches from the wire (a wire passed in stays open). */
  async close(): Promise<void> {
    for (const session of [...this.sessions.values()]) this.endSession(session, 'balancer-closed');
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    if (this.ownsHost) this.host.close();
  }

  private fromClient(data: Buffer, remote: RemoteInfo): void {
    const session = this.sessions.get(`${remote.address}:${remote.port}`) ?? this.openSession(remote);
    const record = session.record;
    try {
      session.socket.send(data, this.backend.port, this.backend.address);
      record.datagramsToBackend++;
      record.bytesToBackend += data.length;
    } catch (error) {
      record.datagramsDropped++;
      record.error = (error as Error).message;
    }
    this.touch(session);
  }

  private openSession(remote: RemoteInfo): Session {
    const socket = this.host.bindUdp({ address: this.address });
    const record: UdpSessionRecord = {
      id: ++this.sessionsOpened,
      client: { address: remote.address, port: remote.port },
      balancer: { address: this.address, port: socket.localPort },
      backend: { ...this.backend },
      datagramsToBackend: 0,
      bytesToBackend: 0,
      datagramsFromBackend: 0,
      bytesFromBackend: 0,
      datagramsDropped: 0,
      openedAt: Date.now(),
      lastActivityAt: Date.now(),
      closedAt: undefined,
      outcome: 'open',
      error: undefined,
    };
    const session: Session = {
      record,
      socket,
      idleTimer: setTimeout(() => this.endSession(session, 'idle-timeout'), this.idleTimeoutMs).unref(),
    };
    socket.on('message', (data, from) => this.fromBackend(session, data, from));
    this.sessions.set(`${remote.address}:${remote.port}`, session);
    this.records.push(record);
    this.emit('session', record);
    return session;
  }

  private fromBackend(session: Session, data: Buffer, from: UdpRemoteInfo): void {
    // Like a NAT, only the backend's own address and port map back to the client.
    if (from.address !== this.backend.address || from.port !== this.backend.port) return;
    const { record } = session;
    record.datagramsFromBackend++;
    record.bytesFromBackend += data.length;
    this.server?.send(data, record.client.port, record.client.address);
    this.touch(session);
  }

  private touch(session: Session): void {
    session.record.lastActivityAt = Date.now();
    session.idleTimer.refresh();
  }

  private endSession(session: Session, outcome: UdpSessionOutcome): void {
    const { record } = session;
    if (this.sessions.get(`${record.client.address}:${record.client.port}`) !== session) return;
    this.sessions.delete(`${record.client.address}:${record.client.port}`);
    clearTimeout(session.idleTimer);
    session.socket.close();
    record.outcome = outcome;
    record.closedAt = Date.now();
    this.emit('session-closed', record);
  }
}
