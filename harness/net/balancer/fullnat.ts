import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import type { ArpTuning } from '../stack/arp-resolver.ts';
import { NetworkHost } from '../stack/network-host.ts';
import type { TcpTuning } from '../stack/tcp-tuning.ts';
import type { FrameTap } from '../wire/frame-tap.ts';
import type { Wire } from '../wire/wire.ts';
import { relayConnection, type Relay, type RelayOutcome } from './connection-relay.ts';
import { createSimulatedClientCycle, type SimulatedClient } from './simulated-clients.ts';
import { toaSegmentOptions, type ToaPlacement, type ToaPolicy } from './toa-policy.ts';

export const DEFAULT_BALANCER_ADDRESS = '192.0.2.2';
export const DEFAULT_BALANCER_MAC = '52:54:00:00:02:02';
export const DEFAULT_BACKEND = Object.freeze({ address: '192.0.2.10', port: 80 });

/** TOA settings for every connection; the client comes from `chooseClient`. */
export type BalancerToaSettings = Partial<Omit<ToaPolicy, 'client' | 'rawOption'>> & {
  /** Raw option bytes instead of the encoded option, fixed or per injected client. */
  rawOption?: Uint8Array | ((client: SimulatedClient) => Uint8Array);
};

/** Where TOA goes unless told otherwise: where the guides' modules read it, and where a lost ACK moves it. */
export const DEFAULT_TOA_SETTINGS: Readonly<Required<Pick<BalancerToaSettings, 'kind' | 'placement'>>> = Object.freeze({
  kind: 254,
  placement: ['ack', 'first-data'] as readonly ToaPlacement[],
});

interface CommonOptions {
  /** The balancer's address on the lab segment (default 192.0.2.2; must be one of the host's). */
  address?: string;
  /** Backend to connect to (default 192.0.2.10:80). */
  backend?: { address: string; port: number };
  /** Where clients connect (default 127.0.0.1, ephemeral port). */
  listen?: { host?: string; port?: number };
  /** TOA on every backend connection, or `false` for a control run (backend sees 192.0.2.2). */
  toa?: BalancerToaSettings | false;
  /** Picks the simulated client for the n-th connection (0-based). Default: `createSimulatedClientCycle()`. */
  chooseClient?: (connectionIndex: number) => SimulatedClient;
  /** TCP tuning for backend connections. */
  tcp?: Partial<TcpTuning>;
}

export type FullNatBalancerOptions = CommonOptions &
  (
    | {
        /** Attach to this wire with a host of the balancer's own (closed with the balancer). */
        wire: Wire;
        host?: never;
        mac?: string;
        arp?: Partial<ArpTuning>;
        tap?: FrameTap;
      }
    | {
        /** Use an existing host (shared with other simulated parts; left open on close). */
        host: NetworkHost;
        wire?: never;
      }
  );

/** What the balancer did with one client connection — to match against the backend's log. */
export interface FullNatConnectionRecord {
  id: number;
  /** The real client, as seen on the balancer's 127.0.0.1 listener. */
  client: { address: string; port: number };
  /** The client TOA reported to the backend (`undefined` when TOA is off). */
  injectedClient: SimulatedClient | undefined;
  /** Our side of the backend connection: what the backend sees as its peer. */
  balancer: { address: string; port: number };
  backend: { address: string; port: number };
  bytesToBackend: number;
  bytesFromBackend: number;
  openedAt: number;
  closedAt: number | undefined;
  /** `open` until both sides have closed. */
  outcome: RelayOutcome | 'open';
  error: string | undefined;
}

interface FullNatEvents {
  connection: [record: FullNatConnectionRecord];
  'connection-closed': [record: FullNatConnectionRecord];
}

/**
 * A FULLNAT load balancer: every client connection accepted on 127.0.0.1 becomes a new TCP
 * connection from the balancer's own lab address to the backend, over the userspace stack,
 * carrying the TOA option that names a simulated original client. Bytes, FIN and RST are
 * relayed both ways.
 *
 *   const wire = await QemuStreamWire.connect({ path: '/run/lab/vm1-lab.sock' });
 *   const lb = await FullNatBalancer.start({ wire, toa: { placement: ['ack', 'first-data'] } });
 *   await fetch(`http://127.0.0.1:${lb.port}/`);   // backend logs 198.51.100.1
 *   await lb.close();
 */
export class FullNatBalancer extends EventEmitter<FullNatEvents> {
  readonly host: NetworkHost;
  readonly address: string;
  readonly backend: { address: string; port: number };
  readonly records: FullNatConnectionRecord[] = [];
  private readonly ownsHost: boolean;
  private readonly server: Server;
  /** Live relays, each with a promise that settles once both of its sockets have closed. */
  private readonly relays = new Map<Relay, Promise<void>>();
  private readonly chooseClient: (connectionIndex: number) => SimulatedClient;
  private readonly toa: BalancerToaSettings | false;
  private readonly tcpTuning: Partial<TcpTuning> | undefined;
  private connectionsAccepted = 0;
  private listenPort = 0;
  private listenHost = '127.0.0.1';

  private constructor(options: FullNatBalancerOptions) {
    super();
    this.address = options.address ?? DEFAULT_BALANCER_ADDRESS;
    if (options.host) {
      this.host = options.host;
      this.ownsHost = false;
      if (!this.host.addresses.includes(this.address)) {
        throw new Error(`balancer address ${this.address} is not on the given host (${this.host.addresses.join(', ')})`);
      }
    } else {
      this.host = new NetworkHost({
        wire: options.wire,
        mac: options.mac ?? DEFAULT_BALANCER_MAC,
        addresses: [this.address],
        ...(options.tcp && { tcp: options.tcp }),
        ...(options.arp && { arp: options.arp }),
        ...(options.tap && { tap: options.tap }),
      });
      this.ownsHost = true;
    }
    this.backend = { ...(options.backend ?? DEFAULT_BACKEND) };
    this.toa = options.toa === false ? false : { ...DEFAULT_TOA_SETTINGS, ...options.toa };
    this.chooseClient = options.chooseClient ?? createSimulatedClientCycle();
    this.tcpTuning = options.host ? options.tcp : undefined;
    this.server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.accept(socket));
  }

  /** Creates the balancer and starts listening. */
  static async start(options: FullNatBalancerOptions): Promise<FullNatBalancer> {
    const balancer = new FullNatBalancer(options);
    await balancer.listen(options.listen?.host ?? '127.0.0.1', options.listen?.port ?? 0);
    return balancer;
  }

  /** The port clients connect to on 127.0.0.1 (resolved when listening on port 0). */
  get port(): number {
    return this.listenPort;
  }

  /** `http://127.0.0.1:PORT` — convenient for HTTP clients. */
  get url(): string {
    return `http://${this.listenHost}:${this.listenPort}`;
  }

  /**
   * Stops accepting, resets every live connection both ways, and detaches from the wire (a wire
   * passed in stays open: it is the caller's). Resolves once every record is final.
   */
  async close(): Promise<void> {
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const relay of this.relays.keys()) relay.abort();
    await Promise.all([stopped, ...this.relays.values()]);
    if (this.ownsHost) this.host.close();
  }

  private listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port }, () => {
        this.server.off('error', reject);
        const address = this.server.address();
        if (address && typeof address === 'object') this.listenPort = address.port;
        this.listenHost = host;
        resolve();
      });
    });
  }

  private accept(client: Socket): void {
    const index = this.connectionsAccepted++;
    const injectedClient = this.toa ? this.chooseClient(index) : undefined;
    const backendSocket = this.host.connect({
      remoteAddress: this.backend.address,
      remotePort: this.backend.port,
      localAddress: this.address,
      ...(this.toa && injectedClient && { segmentOptions: toaSegmentOptions(this.toaPolicy(this.toa, injectedClient)) }),
      ...(this.tcpTuning && { tuning: this.tcpTuning }),
    });
    const record: FullNatConnectionRecord = {
      id: index + 1,
      client: { address: client.remoteAddress ?? '?', port: client.remotePort ?? 0 },
      injectedClient,
      balancer: { address: backendSocket.localAddress, port: backendSocket.localPort },
      backend: { ...this.backend },
      bytesToBackend: 0,
      bytesFromBackend: 0,
      openedAt: Date.now(),
      closedAt: undefined,
      outcome: 'open',
      error: undefined,
    };
    this.records.push(record);
    let ended!: () => void;
    const relay = relayConnection(client, backendSocket, (outcome, error) => {
      this.relays.delete(relay);
      ended();
      record.outcome = outcome;
      record.error = error?.message;
      record.closedAt = Date.now();
      record.bytesToBackend = backendSocket.bytesWritten;
      record.bytesFromBackend = backendSocket.bytesRead;
      this.emit('connection-closed', record);
    });
    this.relays.set(relay, new Promise((resolve) => (ended = resolve)));
    this.emit('connection', record);
  }

  private toaPolicy(settings: BalancerToaSettings, client: SimulatedClient): ToaPolicy {
    const rawOption = typeof settings.rawOption === 'function' ? settings.rawOption(client) : settings.rawOption;
    return {
      kind: settings.kind ?? DEFAULT_TOA_SETTINGS.kind,
      client,
      placement: settings.placement ?? DEFAULT_TOA_SETTINGS.placement,
      dropHandshakeAck: settings.dropHandshakeAck ?? false,
      ...(rawOption && { rawOption }),
    };
  }
}
