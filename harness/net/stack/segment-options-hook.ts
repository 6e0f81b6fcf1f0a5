import type { TcpOption } from '../codec/tcp-options.ts';

/**
 * What an outgoing segment is, from the connection's point of view — what a load balancer
 * policy needs to decide whether to add an option to it.
 *
 * - `syn`: our SYN (active open), retransmissions included.
 * - `syn-ack`: our SYN-ACK (passive open).
 * - `handshake-ack`: the bare ACK answering the peer's SYN-ACK — the third packet of the
 *   handshake (also when re-sent because the peer retransmitted its SYN-ACK).
 * - `data`: a segment carrying payload (possibly with FIN).
 * - `fin`: a FIN without payload.
 * - `ack`: any other bare ACK (acknowledgements, window updates, duplicate ACKs).
 * - `window-probe`: a zero-window probe.
 * - `rst`: a reset from `abort()`.
 */
export type OutgoingSegmentRole = 'syn' | 'syn-ack' | 'handshake-ack' | 'data' | 'fin' | 'ack' | 'window-probe' | 'rst';

export interface OutgoingSegmentInfo {
  role: OutgoingSegmentRole;
  /** The segment carries the first byte of our byte stream (retransmissions included). */
  carriesFirstData: boolean;
  /** Same sequence range went out before. */
  retransmission: boolean;
  sequenceNumber: number;
  /**
   * Bytes of options the stack itself puts in this segment, before any the hook adds (MSS and
   * window scale on a SYN, a Fast Open cookie; none on the others): a hook adding options must
   * leave them room in the 40-byte options area.
   */
  ownOptionsLength: number;
}

/**
 * Per-connection hook for what the balancer adds to segments. The TCP engine stays ignorant of
 * TOA: it asks the hook for extra options on every segment it sends, and shrinks that
 * segment's payload by their length so the frame never exceeds the MTU.
 */
export interface SegmentOptionsHook {
  /** Options appended after the stack's own for this segment (nothing = none). */
  extraOptions?(segment: OutgoingSegmentInfo): readonly TcpOption[] | undefined;
  /**
   * Skip the bare ACK answering the first SYN-ACK, as if it were lost: the peer then creates
   * its socket from our first data segment. A retransmitted SYN-ACK is answered normally, as a
   * real client would.
   */
  suppressHandshakeAck?: boolean;
}
