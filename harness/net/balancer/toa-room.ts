import { MAX_TCP_OPTIONS_LENGTH, TcpOptionKind, tcpOptionLength, tcpOptionsLength, type TcpOption } from '../codec/tcp-options.ts';

/**
 * A FULLNAT balancer that forwards the client's segments (LVS, DPVS) keeps the client's own
 * TCP options and inserts its TOA among them. Two things then depend on the balancer, and this
 * file is where the simulated one decides them:
 *
 * - where its TOA goes: LVS's `tcp_opt_add_toa` and DPVS's `tcp_in_add_toa` both move the
 *   existing options down and insert TOA right after the fixed 20-byte header (`front`); a
 *   balancer that appends after the client's options (`after-client-options`) is the other
 *   possible order, and the one in which a reader taking the first TOA takes the client's;
 * - what it does when the 40-byte options area has no room for 8 more bytes (a client sending
 *   timestamps and three SACK blocks fills it): LVS skips TOA and counts it
 *   (FULLNAT_ADD_TOA_HEAD_FULL), DPVS returns EDPVS_NOROOM and, since its pull request 925,
 *   first clears any TOA the client put there, then (today's DPVS, `tcp_in_prune_options`)
 *   compacts NOPs and drops options TCP can live without until TOA fits.
 *
 *   'skip'  — LVS, with DPVS's rule that a client's TOA never passes where the balancer's
 *             cannot: the client's TOA-kind options are overwritten with NOPs (same length, so
 *             still no room) and the segment goes without TOA;
 *   'prune' — today's DPVS: drop NOPs, EOL and the client's TOA-kind options, then options
 *             not protected (on a SYN: MSS, window scale, SACK-permitted, timestamps, MPTCP,
 *             Fast Open; later: timestamps only) until TOA fits; TOA then goes in front. If
 *             protected options alone leave no room, it skips as above.
 *
 * Either way the backend sees the balancer or the balancer's client, never an address the
 * client wrote (read from LVS's and DPVS's public sources; none of their code is used here).
 */
export type ToaPosition = 'front' | 'after-client-options';
export type ToaWhenFull = 'skip' | 'prune';

export interface ToaInsertionRequest {
  /** The balancer's own option (a TOA, or a scenario's raw bytes). */
  toa: TcpOption;
  /** The TOA kind: the client's options of this kind are the balancer's to clear. */
  kind: number;
  /** The client's options on this segment, forwarded. */
  clientOptions: readonly TcpOption[];
  /** Bytes of options the balancer's own stack puts first (MSS, window scale on a SYN). */
  ownOptionsLength: number;
  position: ToaPosition;
  whenFull: ToaWhenFull;
  /** The segment is a SYN (prune keeps the options a handshake negotiates). */
  syn: boolean;
}

export interface ToaInsertion {
  /** `skipped-no-room`: the segment goes without the balancer's TOA. */
  toa: 'added' | 'skipped-no-room';
  /** The options after the stack's own: the client's (as forwarded) and the balancer's TOA. */
  options: TcpOption[];
  /** The client's TOA-kind options the balancer cleared (never forwarded as they were). */
  clientToaCleared: number;
  /** Other client options dropped to make room ('prune'). */
  pruned: TcpOption[];
}

/** Options that fit the area after `ownLength` bytes of the stack's own (the header pads to 4 bytes). */
export function fitsOptionsArea(ownLength: number, options: readonly TcpOption[]): boolean {
  return ((ownLength + tcpOptionsLength(options) + 3) & ~3) <= MAX_TCP_OPTIONS_LENGTH;
}

export function insertToa(request: ToaInsertionRequest): ToaInsertion {
  const { toa, clientOptions, ownOptionsLength } = request;
  const placed = request.position === 'front' ? [toa, ...clientOptions] : [...clientOptions, toa];
  if (fitsOptionsArea(ownOptionsLength, placed)) return { toa: 'added', options: placed, clientToaCleared: 0, pruned: [] };

  const isClientToa = (option: TcpOption): boolean => option.type === 'unknown' && option.kind === request.kind;
  const clientToaCleared = clientOptions.filter(isClientToa).length;
  if (request.whenFull === 'prune') {
    const compact = clientOptions.filter((o) => o.type !== 'nop' && o.type !== 'eol' && !isClientToa(o));
    const pruned: TcpOption[] = [];
    const kept = [...compact];
    // Drop unprotected options, first ones first, until TOA fits.
    for (let i = 0; i < kept.length && !fitsOptionsArea(ownOptionsLength, [toa, ...kept]); ) {
      if (isProtected(kept[i]!, request.syn)) i++;
      else pruned.push(...kept.splice(i, 1));
    }
    if (fitsOptionsArea(ownOptionsLength, [toa, ...kept])) return { toa: 'added', options: [toa, ...kept], clientToaCleared, pruned };
    return { toa: 'skipped-no-room', options: kept, clientToaCleared, pruned };
  }
  // Skip: cleared in place with NOPs, as DPVS's tcp_in_remove_toa does, so the area stays full.
  const options = clientOptions.flatMap((o): TcpOption[] => (isClientToa(o) ? nops(tcpOptionLength(o)) : [o]));
  return { toa: 'skipped-no-room', options, clientToaCleared, pruned: [] };
}

/** Kinds a handshake negotiates (kept on a SYN), and timestamps (kept on every segment: PAWS and RTT depend on them). */
const PROTECTED_ON_SYN: ReadonlySet<number> = new Set([TcpOptionKind.mss, TcpOptionKind.windowScale, TcpOptionKind.sackPermitted, TcpOptionKind.timestamps, 30, TcpOptionKind.fastOpen]);

function isProtected(option: TcpOption, syn: boolean): boolean {
  const kind = optionKind(option);
  if (kind === undefined) return false;
  return syn ? PROTECTED_ON_SYN.has(kind) : kind === TcpOptionKind.timestamps;
}

function optionKind(option: TcpOption): number | undefined {
  switch (option.type) {
    case 'mss':
      return TcpOptionKind.mss;
    case 'window-scale':
      return TcpOptionKind.windowScale;
    case 'sack-permitted':
      return TcpOptionKind.sackPermitted;
    case 'sack':
      return TcpOptionKind.sack;
    case 'timestamps':
      return TcpOptionKind.timestamps;
    case 'fast-open':
      return TcpOptionKind.fastOpen;
    case 'unknown':
      return option.kind;
    default:
      return undefined;
  }
}

function nops(count: number): TcpOption[] {
  return Array.from({ length: count }, () => ({ type: 'nop' }) as const);
}
