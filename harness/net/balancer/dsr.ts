import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { ipFamilyOf, normalizeIpAddress } from '../codec/address.ts';
import type { MacAddress } from '../codec/mac.ts';
import type { NetworkHost } from '../stack/network-host.ts';
import type { TcpSocket } from '../stack/tcp-socket.ts';
import type { TcpTuning } from '../stack/tcp-tuning.ts';
import { attachBalancerHost, type BalancerAttachment } from './balancer-host.ts';
import type { RelayOutcome } from './connection-relay.ts';
import { DEFAULT_BACKEND, DEFAULT_BALANCER_ADDRESS } from './fullnat.ts';
import { LoopbackListener } from './loopback-listener.ts';
import { captureClientHead, RelaySet } from './relay-set.ts';
import { createSimulatedClientCycle, type SimulatedClient } from './simulated-clients.ts';

/** The load balancer's service address in DSR scenarios: what the guest puts on its loopback. */
export const DEFAULT_VIP = Object.freeze({ address: '192.0.2.100', port: 80 });

export type DsrBalancerOptions = BalancerAttachment & {
  /** The service address and port clients reach (default 192.0.2.100:80); the backend holds it on `lo`. */
  vip?: { address: string; port: number };
  /**
   * The backend's own address on the segment (default 192.0.2.10): resolved by ARP to find the
   * MAC every frame goes to. The VIP itself is never resolved.
   */
  backendAddress?: string;
  /** The balancer's own address on the segment, used to ask for the backend's MAC (default 192.0.2.2). */
  address?: string;
  /** Where clients connect (default 127.0.0.1, ephemeral port). */
  listen?: { host?: string; port?: number };
  /** The simulated client for the n-th connection (0-based), same family as the VIP. Default: `createSimulatedClientCycle()`. */
  chooseClient?: (connectionIndex: number) => SimulatedClient;
  tcp?: Partial<TcpTuning>;
  /** As for FULLNAT: the client's bytes and FIN leave in one segment (see `FullNatBalancerOptions`). */
  holdClientDataUntilFin?: boolean;
};

/** What the balancer did with one client connection — to match against the backend's log. */
export interface DsrConnectionRecord {
  id: number;
  /** The real client, as seen on the balancer's 127.0.0.1 listener. */
  client: { address: string; port: number };
  /** The address and port the connection came from on the segment: what the backend should log. */
  simulatedClient: SimulatedClient;
  vip: { address: string; port: number };
  /** Where the frames went: the backend's own address and the MAC it resolved to. */
  backend: { address: string; mac: MacAddress | undefined };
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
}

interface DsrEvents {
  connection: [record: DsrConnectionRecord];
  'connection-closed': [record: DsrConnectionRecord];
}

/**
 * DSR — "message forwarding mode" (UCloud CLB), LVS-DR: the balancer forwards the client's own
 * packets to a backend at the link layer, destination IP still the VIP, and the backend, which
 * holds the VIP on its loopback, answers the client directly. The backend sees the real client
 * address without any TOA.
 *
 * Here the harness plays both the client and the director: each connection accepted on
 * 127.0.0.1 becomes a TCP connection from a simulated client address (198.51.100.x:4000n) to
 * the VIP, whose frames are sent to the backend's MAC. The host takes each simulated client
 * address on (`addAddress`) so it receives the backend's answers and answers ARP for it; the
 * addresses it took are given back on close.
 *
 * What the guest needs (besides the VIP on lo, as the UCloud guide says):
 * - a route back to the simulated clients: `ip route add 198.51.100.0/24 via 192.0.2.2` and
 *   `ip route add 203.0.113.0/24 via 192.0.2.2` (the balancer's host answers ARP for 192.0.2.2),
 *   or on-link `ip route add 198.51.100.0/24 dev eth0` (then the guest ARPs for each client
 *   address, which the host also answers), or a default route via 192.0.2.2;
 * - rp_filter 0 or 2, or strict with the routes above (the SYN from 198.51.100.x arrives on eth0).
 * arp_ignore=1 / arp_announce=2 are not needed for the data path; they keep the backend from
 * answering ARP for the VIP (see `probeVipArp`).
 *
 *   const lb = await DsrBalancer.start({ host, vip: { address: '192.0.2.100', port: 80 }, backendAddress: '192.0.2.10' });
 *   await fetch(lb.url);   // backend logs peer=198.51.100.1:40001 local=192.0.2.100:80
 *   await lb.close();
 */
export class DsrBalancer extends EventEmitter<DsrEvents> {
  readonly host: NetworkHost;
  readonly address: string;
  readonly vip: { address: string; port: number };
  readonly backendAddress: string;
  readonly records: DsrConnectionRecord[] = [];
  private readonly ownsHost: boolean;
  private readonly tcpTuning: Partial<TcpTuning> | undefined;
  private readonly chooseClient: (connectionIndex: number) => SimulatedClient;
  private readonly holdClientDataUntilFin: boolean;
  private readonly relays = new RelaySet();
  /** Simulated client addresses this balancer added to the host (given back on close). */
  private readonly borrowedAddresses = new Set<string>();
  private listener: LoopbackListener | undefined;
  private connectionsAccepted = 0;

  private constructor(options: DsrBalancerOptions) {
    super();
    const vip = options.vip ?? DEFAULT_VIP;
    this.vip = { address: normalizeIpAddress(vip.address), port: vip.port };
    this.backendAddress = normalizeIpAddress(options.backendAddress ?? DEFAULT_BACKEND.address);
    this.address = normalizeIpAddress(options.address ?? DEFAULT_BALANCER_ADDRESS);
    const family = ipFamilyOf(this.vip.address);
    if (ipFamilyOf(this.backendAddress) !== family || ipFamilyOf(this.address) !== family) {
      throw new Error(`VIP ${this.vip.address}, backend ${this.backendAddress} and balancer ${this.address} must be of one family`);
    }
    if (this.backendAddress === this.vip.address) {
      throw new Error(`the backend's own address must differ from the VIP (${this.vip.address}): the VIP is never resolved`);
    }
    const attached = attachBalancerHost(options, [this.address], options.tcp);
    this.host = attached.host;
    this.ownsHost = attached.ownsHost;
    this.tcpTuning = attached.perConnectionTcp;
    this.chooseClient = options.chooseClient ?? createSimulatedClientCycle();
    this.holdClientDataUntilFin = options.holdClientDataUntilFin ?? false;
  }

  /**
   * Resolves the backend's MAC (rejecting with a NeighborResolutionError if it never answers —
   * a clear failure before any client connects) and starts listening.
   */
  static async start(options: DsrBalancerOptions): Promise<DsrBalancer> {
    const balancer = new DsrBalancer(options);
    try {
      await balancer.host.resolve(balancer.backendAddress, balancer.address);
      balancer.listener = await LoopbackListener.start(options.listen, (socket) => balancer.accept(socket));
    } catch (error) {
      await balancer.close();
      throw error;
    }
    return balancer;
  }

  /** The port clients connect to on 127.0.0.1. */
  get port(): number {
    return this.listener?.port ?? 0;
  }

  /** `http://127.0.0.1:PORT` — convenient for HTTP clients. */
  get url(): string {
    return this.listener?.url ?? '';
  }

  /** The MAC frames for the VIP go to (the backend's, as resolved). */
  get backendMac(): MacAddress | undefined {
    return ipFamilyOf(this.backendAddress) === 4 ? this.host.arp.lookup(this.backendAddress) : this.host.ndp.lookup(this.backendAddress);
  }

  /**
   * Stops accepting, resets every live connection both ways, gives back the simulated client
   * addresses, and detaches from the wire (a wire passed in stays open). Resolves once every
   * record is final.
   */
  async close(): Promise<void> {
    await Promise.all([this.listener?.close(), this.relays.abortAll()]);
    if (this.ownsHost) {
      this.host.close();
      return;
    }
    for (const address of this.borrowedAddresses) this.host.removeAddress(address);
    this.borrowedAddresses.clear();
  }

  private accept(client: Socket): void {
    const index = this.connectionsAccepted++;
    const simulatedClient = this.chooseClient(index);
    const record: DsrConnectionRecord = {
      id: index + 1,
      client: { address: client.remoteAddress ?? '?', port: client.remotePort ?? 0 },
      simulatedClient,
      vip: { ...this.vip },
      backend: { address: this.backendAddress, mac: this.backendMac },
      bytesToBackend: 0,
      bytesFromBackend: 0,
      openedAt: Date.now(),
      closedAt: undefined,
      outcome: 'open',
      error: undefined,
      clientHead: undefined,
    };
    this.records.push(record);
    let backendSocket: TcpSocket;
    try {
      backendSocket = this.connectAs(simulatedClient);
    } catch (error) {
      // A simulated client the host cannot play (wrong family, its 4-tuple still open).
      client.on('error', () => {});
      client.resetAndDestroy();
      Object.assign(record, { outcome: 'backend-error', error: (error as Error).message, closedAt: Date.now() });
      this.emit('connection', record);
      this.emit('connection-closed', record);
      return;
    }
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
      { holdClientDataUntilFin: this.holdClientDataUntilFin },
    );
    captureClientHead(client, record);
    this.emit('connection', record);
  }

  /** Opens the client's connection to the VIP, taking the client's address on if needed. */
  private connectAs(simulatedClient: SimulatedClient): TcpSocket {
    const address = normalizeIpAddress(simulatedClient.address);
    if (ipFamilyOf(address) !== ipFamilyOf(this.vip.address)) {
      throw new Error(`simulated client ${address} is not in the family of the VIP ${this.vip.address}`);
    }
    if (this.host.addAddress(address)) this.borrowedAddresses.add(address);
    return this.host.connect({
      localAddress: address,
      localPort: simulatedClient.port,
      remoteAddress: this.vip.address,
      remotePort: this.vip.port,
      nextHop: this.backendAddress,
      ...(this.tcpTuning && { tuning: this.tcpTuning }),
    });
  }
}
