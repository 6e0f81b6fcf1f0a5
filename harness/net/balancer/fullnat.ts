import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { ipFamilyOf, normalizeIpAddress } from '../codec/address.ts';
import type { NetworkHost } from '../stack/network-host.ts';
import type { TcpConnectOptions } from '../stack/tcp-engine.ts';
import type { TcpTuning } from '../stack/tcp-tuning.ts';
import { attachBalancerHost, type BalancerAttachment } from './balancer-host.ts';
import type { RelayOutcome } from './connection-relay.ts';
import { LoopbackListener } from './loopback-listener.ts';
import { checkProxySettings, proxyHeaderFor, type ProxyHeaderForm, type ProxyProtocolSettings } from './proxy-protocol-policy.ts';
import { FastOpenCookieJar, fastOpenConnect, type BalancerFastOpen, type FastOpenSyn } from './fast-open-cookies.ts';
import { captureClientHead, RelaySet } from './relay-set.ts';
import { createSimulatedClientCycle, type SimulatedClient } from './simulated-clients.ts';
import { CheckedToaPlacement, noToaSegments, toaSegmentOptions, type ToaPlacement, type ToaPolicy, type ToaSegmentCounts } from './toa-policy.ts';
import type { TcpOption } from '../codec/tcp-options.ts';

export { DEFAULT_BALANCER_MAC } from './balancer-host.ts';
export const DEFAULT_BALANCER_ADDRESS = '192.0.2.2';
/** The balancer's address when the backend is IPv6. */
export const DEFAULT_BALANCER_ADDRESS_V6 = '2001:db8::2';
export const DEFAULT_BACKEND = Object.freeze({ address: '192.0.2.10', port: 80 });

/** TOA settings for every connection; the client comes from `chooseClient`. */
export type BalancerToaSettings = Partial<Omit<ToaPolicy, 'client' | 'rawOption' | 'clientOptions'>> & {
  /** Raw option bytes instead of the encoded option, fixed or per injected client. */
  rawOption?: Uint8Array | ((client: SimulatedClient) => Uint8Array);
  /** The client's own options the balancer forwards (ToaPolicy.clientOptions), fixed or per injected client. */
  clientOptions?: readonly TcpOption[] | ((client: SimulatedClient) => readonly TcpOption[]);
};

/** Where TOA goes unless told otherwise: where the guides' modules read it, and where a lost ACK moves it. */
export const DEFAULT_TOA_SETTINGS: Readonly<Required<Pick<BalancerToaSettings, 'kind' | 'placement'>>> = Object.freeze({
  kind: 254,
  placement: ['ack', 'first-data'] as readonly ToaPlacement[],
});

interface CommonOptions {
  /**
   * The balancer's address on the lab segment, same family as the backend (default 192.0.2.2,
   * or 2001:db8::2 for an IPv6 backend; must be one of the host's).
   */
  address?: string;
  /** Backend to connect to, IPv4 or IPv6 (default 192.0.2.10:80). */
  backend?: { address: string; port: number };
  /** Where clients connect (default 127.0.0.1, ephemeral port). */
  listen?: { host?: string; port?: number };
  /**
   * TOA on every backend connection, or `false` for a control run (backend sees the balancer).
   * The option's form follows the simulated client's family (IPv4: length 8; IPv6: length 20),
   * whatever the family of the connection that carries it.
   */
  toa?: BalancerToaSettings | false;
  /** Picks the simulated client for the n-th connection (0-based). Default: `createSimulatedClientCycle()`. */
  chooseClient?: (connectionIndex: number) => SimulatedClient;
  /** TCP tuning for backend connections. */
  tcp?: Partial<TcpTuning>;
  /**
   * Hold each client's bytes until it half-closes (up to 64 KiB), then send them with FIN in one
   * step, so the first data segment carries FIN whatever the backend handshake's timing — for
   * scenarios where the whole request and FIN reach the balancer together.
   */
  holdClientDataUntilFin?: boolean;
  /**
   * TCP Fast Open towards the backend (fast-open-cookies.ts): each backend SYN waits for the
   * client's first bytes and carries them (with a cookie, or without one).
   */
  fastOpen?: BalancerFastOpen;
  /**
   * PROXY protocol mode: a header naming the simulated client goes before the client's bytes on
   * every backend connection (proxy-protocol-policy.ts; a broken `form` for refusal checks).
   * Independent of `toa`: give `toa: false` for a balancer that speaks only PROXY.
   */
  proxyProtocol?: ProxyProtocolSettings;
}

export type FullNatBalancerOptions = CommonOptions & BalancerAttachment;

/** What the balancer did with one client connection — to match against the backend's log. */
export interface FullNatConnectionRecord {
  id: number;
  /** The real client, as seen on the balancer's 127.0.0.1 listener. */
  client: { address: string; port: number };
  /** The client TOA reported to the backend (`undefined` when TOA is off). */
  injectedClient: SimulatedClient | undefined;
  /** With `proxyProtocol`: what the header said (its client even when the form is broken). */
  proxyHeader?: { version: 1 | 2; form: ProxyHeaderForm; client: SimulatedClient; bytes: number };
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
  /**
   * The start of what the client sent (up to 256 bytes, latin1), once it arrived: find a
   * connection's record by what it sent (e.g. a `/?conn=17` tag) rather than by timing.
   */
  clientHead: string | undefined;
  /**
   * With `fastOpen`: what the backend SYN carried, and whether the backend's SYN-ACK
   * acknowledged the data in it (the balancer's view; the guest's counters are the evidence).
   */
  fastOpen?: { syn: FastOpenSyn; synDataAccepted: boolean | undefined };
  /**
   * With TOA on: what the balancer did on the segments that were to carry it — added, or skipped
   * because the options area had no room (toa-room.ts) — filled in as the segments go out.
   */
  toaSegments?: ToaSegmentCounts;
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
 *
 * IPv6: give an IPv6 backend; the balancer connects from 2001:db8::2 (which a shared host must
 * have: `host.addAddress('2001:db8::2')`), and the guest needs IPv6 on its NIC (see
 * test/e2e/net-modes.test.ts). The TOA family follows the simulated client, not the connection:
 *
 *   const lb6 = await FullNatBalancer.start({
 *     host, backend: { address: '2001:db8::10', port: 81 },
 *     chooseClient: createSimulatedClientCycle({ family: 6 }),   // TOA kind 254, length 20
 *   });                                                            // backend logs [2001:db8:1::1]:40001
 */
export class FullNatBalancer extends EventEmitter<FullNatEvents> {
  readonly host: NetworkHost;
  readonly address: string;
  readonly backend: { address: string; port: number };
  readonly records: FullNatConnectionRecord[] = [];
  private readonly ownsHost: boolean;
  private readonly relays = new RelaySet();
  private readonly chooseClient: (connectionIndex: number) => SimulatedClient;
  private readonly toa: BalancerToaSettings | false;
  private readonly tcpTuning: Partial<TcpTuning> | undefined;
  private readonly holdClientDataUntilFin: boolean;
  private readonly fastOpen: { settings: BalancerFastOpen; jar: FastOpenCookieJar } | undefined;
  private readonly proxyProtocol: ProxyProtocolSettings | undefined;
  /** The TOA placement, checked at the first connection (where an unknown one has always been refused) and reused. */
  private toaPlacement: CheckedToaPlacement | undefined;
  private listener: LoopbackListener | undefined;
  private connectionsAccepted = 0;

  private constructor(options: FullNatBalancerOptions) {
    super();
    const backend = options.backend ?? DEFAULT_BACKEND;
    this.backend = { address: normalizeIpAddress(backend.address), port: backend.port };
    const family = ipFamilyOf(this.backend.address);
    this.address = normalizeIpAddress(options.address ?? (family === 4 ? DEFAULT_BALANCER_ADDRESS : DEFAULT_BALANCER_ADDRESS_V6));
    if (ipFamilyOf(this.address) !== family) {
      throw new Error(`balancer address ${this.address} and backend ${this.backend.address} are of different families`);
    }
    const attached = attachBalancerHost(options, [this.address], options.tcp);
    this.host = attached.host;
    this.ownsHost = attached.ownsHost;
    this.tcpTuning = attached.perConnectionTcp;
    this.toa = options.toa === false ? false : { ...DEFAULT_TOA_SETTINGS, ...options.toa };
    this.chooseClient = options.chooseClient ?? createSimulatedClientCycle();
    this.holdClientDataUntilFin = options.holdClientDataUntilFin ?? false;
    this.fastOpen = options.fastOpen && { settings: options.fastOpen, jar: options.fastOpen.cookies ?? new FastOpenCookieJar() };
    if (options.proxyProtocol) {
      checkProxySettings(options.proxyProtocol);
      // Holding the client's bytes sends them with FIN in one write, which must be the only one; the header is another.
      if (this.holdClientDataUntilFin) throw new Error('proxyProtocol and holdClientDataUntilFin cannot be combined');
      this.proxyProtocol = options.proxyProtocol;
    }
  }

  /** Creates the balancer and starts listening. */
  static async start(options: FullNatBalancerOptions): Promise<FullNatBalancer> {
    const balancer = new FullNatBalancer(options);
    balancer.listener = await LoopbackListener.start(options.listen, (socket) => balancer.accept(socket));
    return balancer;
  }

  /** The port clients connect to on 127.0.0.1 (resolved when listening on port 0). */
  get port(): number {
    return this.listener?.port ?? 0;
  }

  /** `http://127.0.0.1:PORT` — convenient for HTTP clients. */
  get url(): string {
    return this.listener?.url ?? '';
  }

  /**
   * Stops accepting, resets every live connection both ways, and detaches from the wire (a wire
   * passed in stays open: it is the caller's). Resolves once every record is final.
   */
  async close(): Promise<void> {
    await Promise.all([this.listener?.close(), this.relays.abortAll()]);
    if (this.ownsHost) this.host.close();
  }

  private accept(client: Socket): void {
    const index = this.connectionsAccepted++;
    const chosen = this.toa || this.proxyProtocol ? this.chooseClient(index) : undefined;
    const injectedClient = this.toa ? chosen : undefined;
    const proxy = this.proxyProtocol && chosen && { client: chosen, plan: proxyHeaderFor(this.proxyProtocol, chosen, index, this.backend.port) };
    const fastOpen = this.fastOpen && fastOpenConnect(this.fastOpen.settings, this.fastOpen.jar, this.backend.address);
    const connectOptions: TcpConnectOptions = {
      remoteAddress: this.backend.address,
      remotePort: this.backend.port,
      localAddress: this.address,
    };
    const toaSegments = this.toa && injectedClient ? noToaSegments() : undefined;
    if (this.toa && injectedClient) {
      this.toaPlacement ??= new CheckedToaPlacement(this.toa.placement ?? DEFAULT_TOA_SETTINGS.placement);
      connectOptions.segmentOptions = toaSegmentOptions(this.toaPolicy(this.toa, injectedClient), this.toaPlacement, toaSegments);
    }
    if (this.tcpTuning) connectOptions.tuning = this.tcpTuning;
    if (fastOpen) connectOptions.fastOpen = fastOpen.connect;
    const backendSocket = this.host.connect(connectOptions);
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
      clientHead: undefined,
      ...(fastOpen && { fastOpen: { syn: fastOpen.syn, synDataAccepted: undefined } }),
      ...(toaSegments && { toaSegments }),
      ...(proxy && {
        proxyHeader: { version: this.proxyProtocol!.version, form: this.proxyProtocol!.form ?? 'valid', client: proxy.client, bytes: proxy.plan.bytes.length },
      }),
    };
    if (record.fastOpen) {
      const seen = record.fastOpen;
      backendSocket.once('connect', () => (seen.synDataAccepted = backendSocket.synDataAccepted));
    }
    this.records.push(record);
    this.relays.start(
      client,
      backendSocket,
      (outcome, error) => {
        record.outcome = outcome;
        record.error = error?.message;
        record.closedAt = Date.now();
        record.bytesToBackend = backendSocket.bytesWritten;
        record.bytesFromBackend = backendSocket.bytesRead;
        this.emit('connection-closed', record);
      },
      {
        holdClientDataUntilFin: this.holdClientDataUntilFin,
        ...(proxy && { prefix: proxy.plan.bytes, endAfterPrefix: proxy.plan.endAfterHeader }),
      },
    );
    captureClientHead(client, record);
    this.emit('connection', record);
  }

  private toaPolicy(settings: BalancerToaSettings, client: SimulatedClient): ToaPolicy {
    const rawOption = typeof settings.rawOption === 'function' ? settings.rawOption(client) : settings.rawOption;
    const clientOptions = typeof settings.clientOptions === 'function' ? settings.clientOptions(client) : settings.clientOptions;
    return {
      kind: settings.kind ?? DEFAULT_TOA_SETTINGS.kind,
      client,
      placement: settings.placement ?? DEFAULT_TOA_SETTINGS.placement,
      dropHandshakeAck: settings.dropHandshakeAck ?? false,
      ...(settings.layout && { layout: settings.layout }),
      ...(rawOption && { rawOption }),
      ...(clientOptions && { clientOptions }),
      ...(settings.position && { position: settings.position }),
      ...(settings.whenFull && { whenFull: settings.whenFull }),
    };
  }
}
