import { DEFAULT_TOA_KIND, encodeToaLayout, toaTcpOption, type ToaLayout } from '../codec/toa-option.ts';
import type { TcpOption } from '../codec/tcp-options.ts';
import type { OutgoingSegmentInfo, SegmentOptionsHook } from '../stack/segment-options-hook.ts';
import { fitsOptionsArea, insertToa, type ToaInsertion, type ToaPosition, type ToaWhenFull } from './toa-room.ts';

/**
 * Which of the balancer's segments carry TOA. Any combination:
 * - `syn`: the SYN (and its retransmissions);
 * - `ack`: the bare ACK completing the three-way handshake — where the vendor guides' modules
 *   read it;
 * - `first-data`: the segment carrying the first byte of data — where the backend's socket is
 *   created instead if the handshake ACK is lost or TCP_DEFER_ACCEPT is on;
 * - `every`: every segment the balancer sends on the connection.
 */
export type ToaPlacement = 'syn' | 'ack' | 'first-data' | 'every';

export const TOA_PLACEMENTS: readonly ToaPlacement[] = ['syn', 'ack', 'first-data', 'every'];

export interface ToaPolicy {
  /** Option kind (default 254; 200 and 253 are seen in the field). */
  kind?: number;
  /** The original client the option reports. */
  client: { address: string; port: number };
  placement: ReadonlySet<ToaPlacement> | readonly ToaPlacement[];
  /**
   * A vendor's field layout (a balancer profile: balancer-profiles.ts) instead of the standard
   * port + address of the client's family.
   */
  layout?: ToaLayout;
  /** Leave out the bare handshake ACK, so the first data segment completes the handshake. */
  dropHandshakeAck?: boolean;
  /**
   * Bytes to put in the options area instead of the encoded option — for hostile-input
   * scenarios (length 0/1/255, an EOL before it, a spoofed kind). Written verbatim.
   */
  rawOption?: Uint8Array;
  /**
   * The client's own options on the segments that carry TOA, which a FULLNAT balancer forwards
   * (LVS and DPVS rewrite addresses and ports and keep the options): timestamps, SACK blocks, a
   * TOA the client forged. Forwarded on those segments only (the lab's client is a real socket
   * on 127.0.0.1; these are the options a client on the balancer's far side would have sent).
   */
  clientOptions?: readonly TcpOption[];
  /** Where the balancer's TOA goes among them (default 'front', as LVS and DPVS insert it): toa-room.ts. */
  position?: ToaPosition;
  /** What the balancer does when the options area has no room for TOA (default 'skip', as LVS): toa-room.ts. */
  whenFull?: ToaWhenFull;
}

/** What the balancer did about TOA on one connection's segments (each segment that was to carry it, counted). */
export interface ToaSegmentCounts {
  /** Segments that carried the balancer's TOA. */
  added: number;
  /** Segments that went without it: the options area had no room (LVS's FULLNAT_ADD_TOA_HEAD_FULL). */
  skippedNoRoom: number;
  /** TOA-kind options of the client's that the balancer cleared rather than forward. */
  clientToaCleared: number;
  /** Other client options the balancer dropped to make room ('prune'). */
  clientOptionsPruned: number;
}

export function noToaSegments(): ToaSegmentCounts {
  return { added: 0, skippedNoRoom: 0, clientToaCleared: 0, clientOptionsPruned: 0 };
}

/**
 * A placement checked once (unknown names refused), then asked for every segment a connection
 * sends. A balancer applies one placement to all its connections: it checks it once, not per
 * connection.
 */
export class CheckedToaPlacement {
  private readonly every: boolean;
  private readonly syn: boolean;
  private readonly handshakeAck: boolean;
  private readonly firstData: boolean;

  constructor(placement: Iterable<ToaPlacement>) {
    const wanted = new Set(placement);
    for (const where of wanted) {
      if (!TOA_PLACEMENTS.includes(where)) {
        throw new Error(`unknown TOA placement ${JSON.stringify(where)} (expected ${TOA_PLACEMENTS.join(', ')})`);
      }
    }
    this.every = wanted.has('every');
    this.syn = wanted.has('syn');
    this.handshakeAck = wanted.has('ack');
    this.firstData = wanted.has('first-data');
  }

  wants(segment: OutgoingSegmentInfo): boolean {
    return (
      this.every ||
      (this.syn && segment.role === 'syn') ||
      (this.handshakeAck && segment.role === 'handshake-ack') ||
      (this.firstData && segment.carriesFirstData)
    );
  }
}

/**
 * Turns a TOA policy into the per-segment hook the TCP engine understands. `placement` is the
 * policy's own placement, checked here unless the caller checked it already; `counts`, when
 * given, is told what happened on every segment that was to carry TOA.
 */
export function toaSegmentOptions(
  policy: ToaPolicy,
  placement = new CheckedToaPlacement(policy.placement),
  counts?: ToaSegmentCounts,
): SegmentOptionsHook {
  const toa = policyOption(policy);
  const alone: readonly TcpOption[] = [toa];
  const clientOptions = policy.clientOptions ?? [];
  const kind = policy.kind ?? DEFAULT_TOA_KIND;
  return {
    extraOptions(segment) {
      if (!placement.wants(segment)) return undefined;
      // The common case (no client options, room to spare) stays one shared list: `load` sends 10,000 connections.
      if (clientOptions.length === 0 && fitsOptionsArea(segment.ownOptionsLength, alone)) {
        if (counts) counts.added++;
        return alone;
      }
      const insertion = insertToa({
        toa,
        kind,
        clientOptions,
        ownOptionsLength: segment.ownOptionsLength,
        position: policy.position ?? 'front',
        whenFull: policy.whenFull ?? 'skip',
        syn: segment.role === 'syn',
      });
      if (counts) count(counts, insertion);
      return insertion.options;
    },
    suppressHandshakeAck: policy.dropHandshakeAck ?? false,
  };
}

function count(counts: ToaSegmentCounts, insertion: ToaInsertion): void {
  if (insertion.toa === 'added') counts.added++;
  else counts.skippedNoRoom++;
  counts.clientToaCleared += insertion.clientToaCleared;
  counts.clientOptionsPruned += insertion.pruned.length;
}


/** Raw bytes (hostile input) win; then a vendor's layout; else the standard TOA of the client's family. */
function policyOption(policy: ToaPolicy): TcpOption {
  const kind = policy.kind ?? DEFAULT_TOA_KIND;
  if (policy.rawOption) return { type: 'raw', bytes: policy.rawOption };
  if (policy.layout) return { type: 'unknown', kind, data: encodeToaLayout(kind, policy.layout, policy.client).subarray(2) };
  return toaTcpOption({ ...policy.client, kind });
}
