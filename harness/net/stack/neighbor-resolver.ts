import type { MacAddress } from '../codec/mac.ts';
import { cachedMacBytes } from '../codec/mac.ts';

/**
 * How hard a host tries to learn a neighbour's MAC: the same knobs for ARP (IPv4) and Neighbor
 * Solicitation (IPv6), so one setting covers both families.
 */
export interface ArpTuning {
  /** Time between requests (ARP who-has, or NS) for an address that has not answered (default 1 s). */
  requestIntervalMs: number;
  /** Requests before giving up (default 5: a TCG guest can stall for about a second). */
  maxRequests: number;
  /**
   * Frames held per unresolved address; older ones are dropped (TCP resends them, but only
   * after an RTO — a second at first — so keep this above the largest burst of SYNs a scenario
   * opens before the first ARP reply).
   */
  maxQueuedFrames: number;
}

export const DEFAULT_ARP_TUNING: Readonly<ArpTuning> = Object.freeze({
  requestIntervalMs: 1000,
  maxRequests: 5,
  maxQueuedFrames: 4096,
});

/** A neighbour never answered: no ARP reply (IPv4) or Neighbor Advertisement (IPv6). */
export class NeighborResolutionError extends Error {
  override readonly name = 'NeighborResolutionError';
}

/** The name this error had when only IPv4 existed; the same class. */
export { NeighborResolutionError as ArpResolutionError };

/** What a resolver asks with, for messages: 'ARP' or 'NDP'. */
export type NeighborProtocol = 'ARP' | 'NDP';

interface Pending {
  /** Frames waiting for the MAC; bytes 0–5 (destination) are filled in on resolution. */
  frames: Uint8Array[];
  waiters: { resolve: (mac: MacAddress) => void; reject: (error: Error) => void }[];
  requestsSent: number;
  timer: NodeJS.Timeout;
  senderIp: string;
}

/**
 * The neighbour table of one host for one family: IP → MAC, learned from ARP (IPv4) or
 * Neighbor Discovery (IPv6) traffic, with resolution on demand. The protocol itself is the
 * host's: this class only keeps the table, holds frames while a request is out, repeats the
 * request, and gives up. Entries do not expire — the lab fixes every MAC — but are overwritten
 * whenever a packet shows a new one.
 */
export class NeighborResolver {
  private readonly table = new Map<string, MacAddress>();
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly protocol: NeighborProtocol,
    private readonly tuning: ArpTuning,
    /** Sends a request (ARP who-has, or NS) for `targetIp`, from `senderIp`. */
    private readonly sendRequest: (targetIp: string, senderIp: string) => void,
    private readonly sendFrame: (frame: Uint8Array) => void,
    /** Called when `ip` never answered. */
    private readonly onUnreachable: (ip: string, error: NeighborResolutionError) => void,
  ) {}

  lookup(ip: string): MacAddress | undefined {
    return this.table.get(ip);
  }

  /** Records a mapping and releases anything waiting for it. */
  learn(ip: string, mac: MacAddress): void {
    this.table.set(ip, mac);
    const waiting = this.pending.get(ip);
    if (!waiting) return;
    this.pending.delete(ip);
    clearTimeout(waiting.timer);
    const macBytes = cachedMacBytes(mac);
    for (const frame of waiting.frames) {
      frame.set(macBytes, 0);
      this.sendFrame(frame);
    }
    for (const waiter of waiting.waiters) waiter.resolve(mac);
  }

  forget(ip: string): void {
    this.table.delete(ip);
  }

  /** Sends `frame` to `ip` now if its MAC is known, else once it resolves. */
  sendTo(ip: string, senderIp: string, frame: Uint8Array): void {
    const mac = this.table.get(ip);
    if (mac !== undefined) {
      frame.set(cachedMacBytes(mac), 0);
      this.sendFrame(frame);
      return;
    }
    const waiting = this.startResolving(ip, senderIp);
    if (waiting.frames.length >= this.tuning.maxQueuedFrames) waiting.frames.shift();
    waiting.frames.push(frame);
  }

  /** Resolves `ip` (from the cache, or by asking). */
  resolve(ip: string, senderIp: string): Promise<MacAddress> {
    const mac = this.table.get(ip);
    if (mac !== undefined) return Promise.resolve(mac);
    return new Promise((resolve, reject) => this.startResolving(ip, senderIp).waiters.push({ resolve, reject }));
  }

  /** Stops all resolutions (host shutdown); waiters are rejected. */
  stop(): void {
    for (const [ip, waiting] of this.pending) {
      clearTimeout(waiting.timer);
      for (const waiter of waiting.waiters) waiter.reject(new NeighborResolutionError(`${this.protocol} for ${ip} stopped: host closed`));
    }
    this.pending.clear();
  }

  private startResolving(ip: string, senderIp: string): Pending {
    const existing = this.pending.get(ip);
    if (existing) return existing;
    const waiting: Pending = {
      frames: [],
      waiters: [],
      requestsSent: 1,
      senderIp,
      timer: setTimeout(() => this.onRequestTimeout(ip), this.tuning.requestIntervalMs),
    };
    this.pending.set(ip, waiting);
    this.sendRequest(ip, senderIp);
    return waiting;
  }

  private onRequestTimeout(ip: string): void {
    const waiting = this.pending.get(ip);
    if (!waiting) return;
    if (waiting.requestsSent >= this.tuning.maxRequests) {
      this.pending.delete(ip);
      const answer = this.protocol === 'ARP' ? 'ARP reply' : 'Neighbor Advertisement';
      const hint =
        this.protocol === 'ARP'
          ? "is the guest's lab NIC up with that address?"
          : 'is IPv6 enabled on the guest\'s lab NIC (disable_ipv6=0) with that address, and DAD finished?';
      const error = new NeighborResolutionError(
        `no ${answer} from ${ip} after ${waiting.requestsSent} requests ${this.tuning.requestIntervalMs} ms apart (${hint})`,
      );
      for (const waiter of waiting.waiters) waiter.reject(error);
      this.onUnreachable(ip, error);
      return;
    }
    waiting.requestsSent++;
    this.sendRequest(ip, waiting.senderIp);
    waiting.timer = setTimeout(() => this.onRequestTimeout(ip), this.tuning.requestIntervalMs);
  }
}
