import type { MacAddress } from '../codec/mac.ts';
import { cachedMacBytes } from '../codec/mac.ts';

export interface ArpTuning {
  /** Time between ARP requests for an address that has not answered (default 1 s). */
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

export class ArpResolutionError extends Error {
  override readonly name = 'ArpResolutionError';
}

interface Pending {
  /** Frames waiting for the MAC; bytes 0–5 (destination) are filled in on resolution. */
  frames: Uint8Array[];
  waiters: { resolve: (mac: MacAddress) => void; reject: (error: Error) => void }[];
  requestsSent: number;
  timer: NodeJS.Timeout;
  senderIp: string;
}

/**
 * The neighbour table of one host: IPv4 → MAC, learned from ARP traffic, with resolution on
 * demand. Entries do not expire — the lab fixes every MAC — but are overwritten whenever an
 * ARP packet shows a new one.
 */
export class ArpResolver {
  private readonly table = new Map<string, MacAddress>();
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly tuning: ArpTuning,
    /** Sends a who-has request for `targetIp`, from `senderIp`. */
    private readonly sendRequest: (targetIp: string, senderIp: string) => void,
    private readonly sendFrame: (frame: Uint8Array) => void,
    /** Called when `ip` never answered. */
    private readonly onUnreachable: (ip: string, error: ArpResolutionError) => void,
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
      for (const waiter of waiting.waiters) waiter.reject(new ArpResolutionError(`ARP for ${ip} stopped: host closed`));
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
      const error = new ArpResolutionError(
        `no ARP reply from ${ip} after ${waiting.requestsSent} requests ` +
          `${this.tuning.requestIntervalMs} ms apart (is the guest's lab NIC up with that address?)`,
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
