import { findFastOpenOption, paddedTcpOptionsLength, tcpOptionsLength, type TcpOption } from '../codec/tcp-options.ts';
import type { TcpFlags, TcpHeader, TcpSegment } from '../codec/tcp.ts';
import { ByteQueue } from './byte-queue.ts';
import { sameCookie, type TcpFastOpenConnect, type TcpFastOpenServer } from './fast-open.ts';
import { RetransmissionTimeout } from './retransmission-timeout.ts';
import type { OutgoingSegmentInfo, OutgoingSegmentRole, SegmentOptionsHook } from './segment-options-hook.ts';
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt } from './sequence-numbers.ts';
import { TcpConnectionError, type TcpErrorCode } from './tcp-errors.ts';
import { windowScaleFor, type TcpTuning } from './tcp-tuning.ts';

/** RFC 9293 states (LISTEN lives in the engine's listener table, not here). */
export type TcpState =
  | 'SYN-SENT'
  | 'SYN-RECEIVED'
  | 'ESTABLISHED'
  | 'FIN-WAIT-1'
  | 'FIN-WAIT-2'
  | 'CLOSE-WAIT'
  | 'CLOSING'
  | 'LAST-ACK'
  | 'TIME-WAIT'
  | 'CLOSED';

export interface TcpEndpoints {
  /** IPv4 or IPv6 (both ends the same family), in the stack's normalised text form. */
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  /**
   * Whose MAC the frames go to, when not the remote address's own: a DSR director sends to the
   * VIP through the backend that holds it on its loopback (the VIP itself must never be
   * resolved). Not part of the connection's identity.
   */
  nextHop?: string;
}

/** Where a connection's segments go (the host builds the IP/Ethernet frame around them). */
export type TcpSegmentSender = (endpoints: TcpEndpoints, header: TcpHeader, payload: Uint8Array) => void;

/** The application side of a connection (the stream adapter, `TcpSocket`). */
export interface TcpConnectionOwner {
  onEstablished(): void;
  onData(data: Uint8Array): void;
  /** The peer sent FIN: no more data will arrive. */
  onPeerFinished(): void;
  /** Acknowledged data left the send queue: blocked writers may continue. */
  onSendSpace(): void;
  onFailed(error: TcpConnectionError): void;
  /** The local host shut the connection down (it sent RST): close without an error. */
  onAborted(): void;
  /** Bytes delivered but not yet consumed; our advertised window is what is left. */
  bufferedReceiveBytes(): number;
}

/** The MSS to assume when the peer sends none (RFC 9293 §3.7.1: 536 over IPv4; 1220 over IPv6, RFC 8200's 1280-byte minimum link MTU − 60). */
const DEFAULT_PEER_MSS_IPV4 = 536;
const DEFAULT_PEER_MSS_IPV6 = 1220;
const EMPTY = new Uint8Array(0);
/** The options of a segment that carries none: one shared, frozen list rather than a new one per segment. */
const NO_OPTIONS: readonly TcpOption[] = Object.freeze([]);

const flags = (set: Partial<TcpFlags>): TcpFlags =>
  Object.freeze({ fin: false, syn: false, rst: false, psh: false, ack: false, urg: false, ece: false, cwr: false, ...set });
const SYN = flags({ syn: true });
const SYN_ACK = flags({ syn: true, ack: true });
const ACK = flags({ ack: true });
const ACK_PSH = flags({ ack: true, psh: true });
const FIN_ACK = flags({ fin: true, ack: true });
const FIN_ACK_PSH = flags({ fin: true, ack: true, psh: true });
const RST = flags({ rst: true });
const RST_ACK = flags({ rst: true, ack: true });

type TimerKind = 'retransmit' | 'persist' | 'time-wait';

/**
 * One TCP connection: the RFC 9293 state machine with the parts the lab needs.
 *
 * - Active and passive open; MSS and window scaling (RFC 7323) negotiated both ways.
 * - Sending: never more in flight than the peer's window; payload per segment is the send MSS
 *   minus any extra options the segment carries. No congestion control (the wire is a local
 *   socket nobody else uses).
 * - Loss: RTO per RFC 6298 with exponential backoff and a retry limit; on expiry, go-back-N from
 *   SND.UNA; fast retransmit (go-back-N too) on three duplicate ACKs, at most once per SND.UNA.
 *   A zero window is probed with the persist timer.
 * - Receiving: in-order only — out-of-order segments are dropped and answered with an immediate
 *   duplicate ACK. In-order data is ACKed once per burst (a microtask after the frames of one
 *   read have been processed), or piggybacked on data we send in the meantime.
 * - Our window is what the application has not consumed yet; when it opens again by a useful
 *   amount (RFC 1122 receiver SWS rule) a window update goes out.
 * - FIN both ways with half-close; RST both ways; short TIME-WAIT.
 * - TCP Fast Open (RFC 7413), both sides (fast-open.ts): data in the SYN, cookies in the
 *   options; a SYN's data the peer did not acknowledge is sent again after the handshake.
 */
export class TcpConnection {
  state: TcpState;
  private owner: TcpConnectionOwner | undefined;

  // Send side (RFC 9293 names).
  private readonly iss: number;
  private sndUna: number;
  private sndNxt: number;
  /** Highest sequence number sent so far: go-back-N moves SND.NXT back but not this. */
  private sndMax: number;
  private sndWnd = 0;
  private sndWl1 = 0;
  private sndWl2 = 0;
  private sndShift = 0;
  private sendMss: number;
  private readonly sendQueue = new ByteQueue();
  /** Sequence number of the first byte in `sendQueue`. */
  private queueSeq: number;
  private finQueued = false;
  private finAcked = false;

  // Receive side.
  private irs = 0;
  private rcvNxt = 0;
  private rcvShift = 0;
  private peerOfferedWindowScale = false;
  /** Right edge of the window we last advertised; never moved left (RFC 9293 §3.8.6.2.2). */
  private rcvAdvertisedEdge = 0;
  private peerFinished = false;

  // Loss recovery.
  private readonly rto: RetransmissionTimeout;
  private retransmissions = 0;
  private probesUnanswered = 0;
  private persistMs = 0;
  private duplicateAcks = 0;
  /**
   * SND.UNA at the last go-back-N. Duplicate ACKs still naming it come from segments that were
   * already in flight and must not trigger another resend; once SND.UNA has moved, a new run of
   * duplicate ACKs means a new hole (a retransmission was lost too) — resend from there at once
   * rather than waiting for the RTO.
   */
  private lastGoBackFrom: number | undefined;
  private lastPeerWindowField = -1;
  private rttSeq: number | undefined;
  private rttStartedAt = 0;

  /**
   * The connection's one timer, kept while the connection lives: re-armed with `refresh()`
   * when the duration is the same (a short connection arms and disarms it half a dozen times),
   * and left pending but unreferenced when disarmed (it then fires into nothing).
   */
  private timer: NodeJS.Timeout | undefined;
  private timerMs = 0;
  /** What the timer is armed for; `undefined` when disarmed. */
  private timerKind: TimerKind | undefined;
  private ackPending = false;
  private ackPendingRole: OutgoingSegmentRole = 'ack';
  private handshakeAckSkipped = false;

  // Fast Open.
  private fastOpenClient: TcpFastOpenConnect | undefined;
  /** Active open waiting for the first write, so the SYN can carry it. */
  private synDeferred = false;
  /** Payload bytes our first SYN carried. */
  private synDataLength = 0;
  /** The cookie our SYN-ACK carries (a cookie request, or a cookie we did not accept). */
  private synAckCookie: Uint8Array | undefined;
  /** Passive: the SYN created this connection (valid cookie, or none needed). */
  private fastOpened = false;
  private synDataTaken = false;

  constructor(
    readonly endpoints: TcpEndpoints,
    private readonly tuning: TcpTuning,
    private readonly send: TcpSegmentSender,
    private readonly onClosed: (connection: TcpConnection) => void,
    private readonly hook: SegmentOptionsHook | undefined,
    initialState: 'SYN-SENT' | 'SYN-RECEIVED',
  ) {
    this.state = initialState;
    this.iss = tuning.initialSequenceNumber() >>> 0;
    this.sndUna = this.iss;
    this.sndNxt = this.iss;
    this.sndMax = this.iss;
    this.queueSeq = seqAdd(this.iss, 1);
    this.sendMss = Math.min(this.defaultPeerMss, tuning.mss);
    this.rto = new RetransmissionTimeout(tuning.initialRtoMs, tuning.minRtoMs, tuning.maxRtoMs);
    this.flushPendingAck = () => this.flushAck();
  }

  private get defaultPeerMss(): number {
    return this.endpoints.localAddress.includes(':') ? DEFAULT_PEER_MSS_IPV6 : DEFAULT_PEER_MSS_IPV4;
  }

  attach(owner: TcpConnectionOwner | undefined): void {
    this.owner = owner;
  }

  // ─── Opening ───────────────────────────────────────────────────────────────────────────────

  /**
   * Active open: send SYN — with Fast Open, at the first write or close instead (so the SYN can
   * carry the data, as Linux's MSG_FASTOPEN does).
   */
  openActive(fastOpen?: TcpFastOpenConnect): void {
    this.fastOpenClient = fastOpen;
    if (fastOpen) this.synDeferred = true;
    else this.sendFirstSyn();
  }

  private sendFirstSyn(): void {
    this.synDeferred = false;
    this.sendSyn(false);
    this.startTimer('retransmit', this.rto.ms);
  }

  /**
   * Passive open from a listener: take the peer's SYN, answer SYN-ACK. Returns true when the
   * SYN itself created the connection (Fast Open, `server` given): its data is delivered now
   * and the listener should hand the socket out before the handshake completes.
   */
  openPassive(syn: TcpSegment, server?: TcpFastOpenServer): boolean {
    this.irs = syn.sequenceNumber;
    this.rcvNxt = seqAdd(this.irs, 1);
    this.negotiateOptions(syn.options);
    this.sndWnd = syn.window; // never scaled in a SYN
    if (server) this.decideFastOpen(syn, server);
    this.rcvAdvertisedEdge = this.rcvNxt;
    if (this.fastOpened && syn.payload.length > 0) {
      // The SYN-ACK acknowledges the data (RFC 7413 §4.2.2); a FIN in the SYN is left for the
      // peer to send again.
      this.rcvNxt = seqAdd(this.rcvNxt, syn.payload.length);
      this.rcvAdvertisedEdge = this.rcvNxt;
      this.synDataTaken = true;
      this.owner?.onData(Uint8Array.from(syn.payload));
    }
    this.sendSynAck(false);
    this.startTimer('retransmit', this.rto.ms);
    return this.fastOpened;
  }

  /** Linux's tcp_try_fastopen, reduced to what the lab needs: cookie checked, or not required. */
  private decideFastOpen(syn: TcpSegment, server: TcpFastOpenServer): void {
    const offered = findFastOpenOption(syn.options);
    if (server.cookieRequired === false) {
      // TFO_SERVER_COOKIE_NOT_REQD: data in the SYN, or any Fast Open option, is enough.
      this.fastOpened = syn.payload.length > 0 || offered !== undefined;
      return;
    }
    if (offered === undefined) return;
    const valid = server.cookieFor(this.endpoints.remoteAddress);
    if (offered.length > 0 && sameCookie(offered, valid)) this.fastOpened = true;
    else this.synAckCookie = valid;
  }

  // ─── Application side ──────────────────────────────────────────────────────────────────────

  /**
   * Active: the SYN-ACK acknowledged the data our SYN carried. Passive: we took the data the
   * SYN carried. (What this side believes; the lab's verdicts come from the guest.)
   */
  get synDataAccepted(): boolean {
    return this.synDataTaken;
  }

  /** Bytes written by the application and not yet acknowledged by the peer. */
  get unacknowledgedBytes(): number {
    return this.sendQueue.length;
  }

  /** The stream is finished both ways (FIN queued and FIN received): a normal close is underway. */
  get closingGracefully(): boolean {
    return this.finQueued && this.peerFinished;
  }

  get smoothedRttMs(): number | undefined {
    return this.rto.srttMs;
  }

  write(data: Uint8Array): void {
    if (this.finQueued) throw new Error('write after end');
    this.sendQueue.append(data);
    if (this.synDeferred) return this.sendFirstSyn();
    this.transmitPending();
  }

  /**
   * The last bytes and FIN at once: they leave together (one segment if they fit), whatever
   * the state — sent as soon as the handshake allows. `write` then `close` would send the data
   * at once if the connection is established, and the FIN in a segment of its own.
   */
  writeAndClose(data: Uint8Array): void {
    if (this.finQueued) throw new Error('write after end');
    this.sendQueue.append(data);
    this.close();
  }

  /** Half-close: send FIN after the queued data. */
  close(): void {
    if (this.finQueued || this.state === 'CLOSED') return;
    this.finQueued = true;
    if (this.state === 'ESTABLISHED') this.state = 'FIN-WAIT-1';
    else if (this.state === 'CLOSE-WAIT') this.state = 'LAST-ACK';
    // In SYN-SENT/SYN-RECEIVED the state moves on when the handshake completes.
    if (this.synDeferred) return this.sendFirstSyn();
    this.transmitPending();
  }

  /** The host is shutting down: abort, and close the application's stream without an error. */
  abortByHost(): void {
    const owner = this.owner;
    this.abort();
    owner?.onAborted();
  }

  /** Abort: RST to the peer if it knows of us, then forget the connection. */
  abort(): void {
    if (this.state === 'CLOSED') return;
    if (this.state !== 'SYN-SENT' && this.state !== 'TIME-WAIT') {
      this.emit('rst', RST_ACK, this.sndNxt, EMPTY, false);
    }
    this.enterClosed();
  }

  /** The application consumed data: if our window opened usefully, tell the peer. */
  receiveBufferDrained(): void {
    if (!this.canReceiveData() || this.peerFinished) return;
    const promised = Math.max(0, seqDiff(this.rcvAdvertisedEdge, this.rcvNxt));
    const available = this.freeReceiveSpace();
    // RFC 1122 §4.2.3.3: only advance the right edge by at least min(buffer / 2, MSS).
    const threshold = Math.min(this.tuning.receiveBufferSize / 2, this.tuning.mss);
    if (available - promised >= threshold) this.emitAck('ack');
  }

  // ─── Network side ──────────────────────────────────────────────────────────────────────────

  handleSegment(segment: TcpSegment): void {
    if (this.state === 'CLOSED') return;
    if (this.state === 'SYN-SENT') this.handleInSynSent(segment);
    else this.handleSynchronized(segment);
  }

  /**
   * Drops a TIME-WAIT connection without a word, so a new SYN on the same 4-tuple can open a
   * fresh one (as Linux does for a SYN that arrives in TIME-WAIT).
   */
  releaseTimeWait(): void {
    if (this.state === 'TIME-WAIT') this.enterClosed();
  }

  /** The host cannot reach the peer (no ARP answer) or the wire went away. */
  failWith(code: TcpErrorCode, message: string): void {
    if (this.state !== 'CLOSED') this.fail(code, message);
  }

  private handleInSynSent(segment: TcpSegment): void {
    const { flags: f, acknowledgmentNumber: ack } = segment;
    if (f.ack && (seqLe(ack, this.iss) || seqGt(ack, this.sndMax))) {
      if (!f.rst) this.send(this.endpoints, this.header(RST, ack, 0, []), EMPTY);
      return;
    }
    if (f.rst) {
      if (f.ack) this.fail('ECONNREFUSED', `connection refused by ${this.describePeer()}`);
      return;
    }
    // A SYN without ACK would be a simultaneous open, which the lab never does: ignore it.
    if (!f.syn || !f.ack) return;

    this.irs = segment.sequenceNumber;
    this.rcvNxt = seqAdd(this.irs, 1);
    // Our SYN offered an unscaled window that starts at the peer's first data byte.
    this.rcvAdvertisedEdge = seqAdd(this.rcvNxt, Math.min(0xffff, this.tuning.receiveBufferSize));
    this.negotiateOptions(segment.options);
    const cookie = findFastOpenOption(segment.options);
    if (cookie && cookie.length > 0) this.fastOpenClient?.onCookie?.(Uint8Array.from(cookie));
    this.synDataTaken = this.synDataLength > 0 && seqGe(ack, seqAdd(this.iss, 1 + this.synDataLength));
    this.acknowledgeUpTo(ack);
    // What the SYN carried and the SYN-ACK did not acknowledge goes again, after the handshake.
    if (seqGt(this.sndNxt, this.sndUna)) this.sndNxt = this.sndUna;
    this.sndWnd = segment.window; // never scaled in a SYN-ACK
    this.sndWl1 = segment.sequenceNumber;
    this.sndWl2 = ack;
    this.state = this.finQueued ? 'FIN-WAIT-1' : 'ESTABLISHED';

    if (this.hook?.suppressHandshakeAck && !this.handshakeAckSkipped) this.handshakeAckSkipped = true;
    else this.emitAck('handshake-ack');
    this.owner?.onEstablished();
    this.transmitPending();
  }

  private handleSynchronized(segment: TcpSegment): void {
    const f = segment.flags;
    const seq = segment.sequenceNumber;
    const payload = segment.payload;
    const segmentLength = payload.length + (f.syn ? 1 : 0) + (f.fin ? 1 : 0);

    if (!this.isAcceptable(seq, segmentLength)) {
      if (f.rst) return;
      if (this.state === 'SYN-RECEIVED' && f.syn && !f.ack) {
        this.sendSynAck(true); // the peer retransmitted its SYN: our SYN-ACK was lost
        return;
      }
      if (this.state === 'TIME-WAIT' && f.fin) this.startTimer('time-wait', this.tuning.timeWaitMs);
      if (seqGt(seq, this.rcvNxt)) {
        // Out of order: an immediate duplicate ACK per segment lets the sender fast-retransmit.
        this.emitAck('ack');
      } else {
        // Old duplicate (e.g. a retransmitted SYN-ACK whose ACK was lost): ACK once per burst.
        const repeatsSynAck = f.syn && f.ack && seq === this.irs;
        this.scheduleAck(repeatsSynAck ? 'handshake-ack' : 'ack');
      }
      return;
    }

    if (f.rst) {
      // Linux sends RSTs with the exact expected sequence number; in-window is accepted here.
      if (this.state === 'SYN-RECEIVED' || this.state === 'TIME-WAIT') this.enterClosed();
      else this.fail('ECONNRESET', `connection reset by ${this.describePeer()}`);
      return;
    }
    if (f.syn) {
      // SYN on a synchronized connection: challenge ACK (RFC 5961 §4), never a reset.
      this.emitAck('ack');
      return;
    }
    if (!f.ack) return;

    const ack = segment.acknowledgmentNumber;
    let justEstablished = false;
    if (this.state === 'SYN-RECEIVED') {
      if (seqLe(ack, this.sndUna) || seqGt(ack, this.sndMax)) {
        this.send(this.endpoints, this.header(RST, ack, 0, []), EMPTY);
        return;
      }
      this.state = this.finQueued ? 'FIN-WAIT-1' : 'ESTABLISHED';
      justEstablished = true;
    }

    if (seqGt(ack, this.sndMax)) {
      this.emitAck('ack'); // acknowledges something we never sent
      return;
    }
    if (seqGt(ack, this.sndUna)) {
      this.acknowledgeUpTo(ack);
    } else if (ack === this.sndUna && segmentLength === 0 && segment.window === this.lastPeerWindowField) {
      this.onDuplicateAck();
    }
    if (seqLt(this.sndWl1, seq) || (this.sndWl1 === seq && seqLe(this.sndWl2, ack))) {
      this.sndWnd = segment.window << this.sndShift;
      this.sndWl1 = seq;
      this.sndWl2 = ack;
    }
    this.lastPeerWindowField = segment.window;
    this.probesUnanswered = 0;
    if (justEstablished) this.owner?.onEstablished();

    if (this.finAcked) {
      if (this.state === 'FIN-WAIT-1') this.state = 'FIN-WAIT-2';
      else if (this.state === 'CLOSING') return this.enterTimeWait();
      else if (this.state === 'LAST-ACK') return this.enterClosed();
    }

    if (payload.length > 0 && this.canReceiveData() && !this.peerFinished) {
      if (seqGt(seq, this.rcvNxt)) {
        // Out of order but inside the window: dropped (we keep no reassembly queue), and an
        // immediate duplicate ACK per such segment lets the sender fast-retransmit the hole.
        this.emitAck('ack');
        this.transmitPending();
        return;
      }
      this.deliver(seq, payload);
    }

    if (f.fin && seqAdd(seq, payload.length) === this.rcvNxt && !this.peerFinished) {
      this.rcvNxt = seqAdd(this.rcvNxt, 1);
      this.peerFinished = true;
      if (this.state === 'ESTABLISHED') this.state = 'CLOSE-WAIT';
      else if (this.state === 'FIN-WAIT-1') this.state = 'CLOSING';
      this.scheduleAck('ack');
      this.owner?.onPeerFinished();
      if (this.state === 'FIN-WAIT-2') return this.enterTimeWait();
    }

    this.transmitPending();
    this.rearmTimer(false);
  }

  /** RFC 9293 §3.10.7.4 "first: check sequence number", against the window we advertised. */
  private isAcceptable(seq: number, segmentLength: number): boolean {
    const window = Math.max(0, seqDiff(this.rcvAdvertisedEdge, this.rcvNxt));
    if (segmentLength === 0) return window === 0 ? seq === this.rcvNxt : this.inReceiveWindow(seq, window);
    if (window === 0) return false;
    // Also accept a segment that starts before RCV.NXT but brings new bytes (partial overlap).
    if (this.inReceiveWindow(seq, window)) return true;
    return seqLt(seq, this.rcvNxt) && this.inReceiveWindow(seqAdd(seq, segmentLength - 1), window);
  }

  /** A method, not a closure in `isAcceptable`: that runs for every segment received. */
  private inReceiveWindow(seq: number, window: number): boolean {
    return seqGe(seq, this.rcvNxt) && seqLt(seq, seqAdd(this.rcvNxt, window));
  }

  private deliver(seq: number, payload: Uint8Array): void {
    let data = payload;
    const alreadyHave = seqDiff(this.rcvNxt, seq);
    if (alreadyHave > 0) data = data.subarray(alreadyHave);
    const room = seqDiff(this.rcvAdvertisedEdge, this.rcvNxt);
    if (data.length > room) data = data.subarray(0, Math.max(0, room));
    if (data.length === 0) return;
    this.rcvNxt = seqAdd(this.rcvNxt, data.length);
    this.scheduleAck('ack');
    this.owner?.onData(data);
  }

  private acknowledgeUpTo(ack: number): void {
    // The SYN occupies the sequence number before the queue; data and FIN follow it.
    const dataAcked = Math.min(Math.max(0, seqDiff(ack, this.queueSeq)), this.sendQueue.length);
    if (dataAcked > 0) {
      this.sendQueue.discard(dataAcked);
      this.queueSeq = seqAdd(this.queueSeq, dataAcked);
    }
    if (this.finQueued && this.sendQueue.length === 0 && seqGt(ack, this.queueSeq)) this.finAcked = true;
    this.sndUna = ack;
    if (seqLt(this.sndNxt, ack)) this.sndNxt = ack;
    if (this.rttSeq !== undefined && seqGe(ack, this.rttSeq)) {
      this.rto.addSample(Date.now() - this.rttStartedAt);
      this.rttSeq = undefined;
    }
    this.retransmissions = 0;
    this.duplicateAcks = 0;
    this.rto.resetBackoff();
    this.rearmTimer(true);
    if (dataAcked > 0) this.owner?.onSendSpace();
  }

  private onDuplicateAck(): void {
    if (!seqGt(this.sndMax, this.sndUna)) return; // nothing in flight: just a window echo
    this.duplicateAcks++;
    if (this.duplicateAcks !== this.tuning.duplicateAckThreshold) return;
    if (this.sndUna === this.lastGoBackFrom) return;
    this.goBackN();
  }

  /** Resend everything from SND.UNA (the receiver may have dropped what followed a loss). */
  private goBackN(): void {
    this.lastGoBackFrom = this.sndUna;
    this.sndNxt = this.sndUna;
    this.rttSeq = undefined; // Karn: retransmitted data gives no RTT sample
    this.transmitPending();
  }

  // ─── Sending ───────────────────────────────────────────────────────────────────────────────

  private canSendData(): boolean {
    switch (this.state) {
      case 'SYN-RECEIVED':
        return this.fastOpened; // RFC 7413 §4.2.2: a Fast Open server may answer before the ACK
      case 'ESTABLISHED':
      case 'CLOSE-WAIT':
      case 'FIN-WAIT-1':
      case 'CLOSING':
      case 'LAST-ACK':
        return true;
      default:
        return false;
    }
  }

  private canReceiveData(): boolean {
    return this.state === 'ESTABLISHED' || this.state === 'FIN-WAIT-1' || this.state === 'FIN-WAIT-2';
  }

  /** Sends whatever queued data (and FIN) the peer's window allows. */
  private transmitPending(): void {
    if (!this.canSendData()) return;
    const firstDataSeq = seqAdd(this.iss, 1);
    for (;;) {
      const sentOffset = seqDiff(this.sndNxt, this.queueSeq);
      const unsent = this.sendQueue.length - sentOffset;
      if (unsent > 0) {
        const usable = seqDiff(seqAdd(this.sndUna, this.sndWnd), this.sndNxt);
        if (usable <= 0) break;
        const extra = this.hook?.extraOptions
          ? this.extraOptionsFor({
              role: 'data',
              carriesFirstData: this.sndNxt === firstDataSeq,
              retransmission: seqLt(this.sndNxt, this.sndMax),
              sequenceNumber: this.sndNxt,
              ownOptionsLength: 0,
            })
          : NO_OPTIONS;
        if (extra === undefined) return;
        const room = Math.max(1, this.sendMss - paddedTcpOptionsLength(extra));
        const length = Math.min(unsent, usable, room);
        const isLast = length === unsent;
        const withFin = isLast && this.finQueued;
        const payload = this.sendQueue.read(sentOffset, length);
        this.emitRaw(withFin ? FIN_ACK_PSH : isLast ? ACK_PSH : ACK, this.sndNxt, payload, extra);
        this.advanceSent(length + (withFin ? 1 : 0));
        continue;
      }
      if (this.finQueued && this.sndNxt === seqAdd(this.queueSeq, this.sendQueue.length)) {
        this.emit('fin', FIN_ACK, this.sndNxt, EMPTY, seqLt(this.sndNxt, this.sndMax));
        this.advanceSent(1);
      }
      break;
    }
    this.rearmTimer(false);
  }

  private advanceSent(sequenceSpace: number): void {
    const start = this.sndNxt;
    this.sndNxt = seqAdd(this.sndNxt, sequenceSpace);
    if (seqGt(this.sndNxt, this.sndMax)) {
      if (this.rttSeq === undefined && seqGe(start, this.sndMax)) {
        this.rttSeq = this.sndNxt;
        this.rttStartedAt = Date.now();
      }
      this.sndMax = this.sndNxt;
    }
  }

  private sendSyn(retransmission: boolean): void {
    const own: TcpOption[] = [
      { type: 'mss', mss: this.tuning.mss },
      { type: 'nop' },
      { type: 'window-scale', shift: windowScaleFor(this.tuning.receiveBufferSize) },
    ];
    const fastOpen = this.fastOpenClient;
    if (fastOpen && !fastOpen.withoutCookie) own.push({ type: 'fast-open', cookie: fastOpen.cookie ?? EMPTY });
    // Data rides only on the first SYN and only with a cookie (or none needed); a retransmitted
    // SYN goes without it, as Linux's does, and the data follows the handshake.
    const withData = !retransmission && !!fastOpen && (!!fastOpen.cookie || !!fastOpen.withoutCookie) && this.sendQueue.length > 0;
    if (!withData) {
      this.emit('syn', SYN, this.iss, EMPTY, retransmission, own);
      if (!retransmission) this.advanceSent(1);
      return;
    }
    const extra = this.extraOptionsFor({
      role: 'syn',
      carriesFirstData: true,
      retransmission,
      sequenceNumber: this.iss,
      ownOptionsLength: tcpOptionsLength(own),
    });
    if (extra === undefined) return;
    const options = [...own, ...extra];
    // The peer's MSS is not known yet: fill our own MSS (the lab wire's MTU is the same both ways).
    const room = Math.max(1, this.tuning.mss - paddedTcpOptionsLength(options));
    const payload = this.sendQueue.read(0, Math.min(this.sendQueue.length, room));
    this.synDataLength = payload.length;
    this.emitRaw(SYN, this.iss, payload, options);
    this.advanceSent(1 + payload.length);
  }

  private sendSynAck(retransmission: boolean): void {
    const own: TcpOption[] = [{ type: 'mss', mss: this.tuning.mss }];
    if (this.peerOfferedWindowScale) {
      own.push({ type: 'nop' }, { type: 'window-scale', shift: this.rcvShift });
    }
    if (this.synAckCookie) own.push({ type: 'fast-open', cookie: this.synAckCookie });
    this.emit('syn-ack', SYN_ACK, this.iss, EMPTY, retransmission, own);
    if (!retransmission) this.advanceSent(1);
  }

  /** MSS and window scale from the peer's SYN or SYN-ACK (RFC 7323 §2.2: scale only if both offer). */
  private negotiateOptions(options: readonly TcpOption[]): void {
    let peerMss = this.defaultPeerMss;
    let peerShift: number | undefined;
    for (const option of options) {
      if (option.type === 'mss') peerMss = option.mss;
      else if (option.type === 'window-scale') peerShift = Math.min(option.shift, 14);
    }
    this.sendMss = Math.max(1, Math.min(peerMss, this.tuning.mss));
    this.peerOfferedWindowScale = peerShift !== undefined;
    if (peerShift !== undefined) {
      this.sndShift = peerShift;
      this.rcvShift = windowScaleFor(this.tuning.receiveBufferSize);
    } else {
      this.sndShift = 0;
      this.rcvShift = 0;
    }
  }

  private scheduleAck(role: OutgoingSegmentRole): void {
    if (this.ackPending) return;
    this.ackPending = true;
    this.ackPendingRole = role;
    queueMicrotask(this.flushPendingAck);
  }

  /**
   * Bound once in the constructor (a class-field arrow would be renamed at run time by tsx's
   * keepNames helper for every connection, a measurable share of a short connection's cost).
   */
  private readonly flushPendingAck: () => void;

  private flushAck(): void {
    if (this.ackPending && this.state !== 'CLOSED') this.emitAck(this.ackPendingRole);
    this.ackPending = false;
  }

  private emitAck(role: OutgoingSegmentRole): void {
    this.emit(role, ACK, this.sndNxt, EMPTY, false);
  }

  private emit(
    role: OutgoingSegmentRole,
    segmentFlags: TcpFlags,
    seq: number,
    payload: Uint8Array,
    retransmission: boolean,
    own: readonly TcpOption[] = NO_OPTIONS,
  ): void {
    // Without a hook (every segment of a plain connection) no segment description is built.
    const extra = this.hook?.extraOptions
      ? this.extraOptionsFor({ role, carriesFirstData: false, retransmission, sequenceNumber: seq, ownOptionsLength: tcpOptionsLength(own) })
      : NO_OPTIONS;
    if (extra === undefined) return;
    this.emitRaw(segmentFlags, seq, payload, extra.length > 0 ? [...own, ...extra] : own);
  }

  /** Asks the hook for extra options; `undefined` if building them failed (connection failed). */
  private extraOptionsFor(info: OutgoingSegmentInfo): readonly TcpOption[] | undefined {
    if (!this.hook?.extraOptions) return NO_OPTIONS;
    try {
      return this.hook.extraOptions(info) ?? NO_OPTIONS;
    } catch (error) {
      this.fail('EINVAL', `segment options hook failed: ${(error as Error).message}`, error);
      return undefined;
    }
  }

  private emitRaw(
    segmentFlags: TcpFlags,
    seq: number,
    payload: Uint8Array,
    options: readonly TcpOption[],
  ): void {
    const ackNumber = segmentFlags.ack ? this.rcvNxt : 0;
    if (segmentFlags.ack) this.ackPending = false;
    try {
      this.send(this.endpoints, this.header(segmentFlags, seq, ackNumber, options), payload);
    } catch (error) {
      if (error instanceof RangeError) {
        this.fail('EINVAL', `cannot build segment: ${error.message}`, error);
        return;
      }
      throw error;
    }
  }

  private header(segmentFlags: TcpFlags, seq: number, ackNumber: number, options: readonly TcpOption[]): TcpHeader {
    return {
      sourcePort: this.endpoints.localPort,
      destinationPort: this.endpoints.remotePort,
      sequenceNumber: seq,
      acknowledgmentNumber: ackNumber,
      flags: segmentFlags,
      reservedBits: 0,
      window: segmentFlags.rst && !segmentFlags.ack ? 0 : this.windowField(segmentFlags.syn),
      urgentPointer: 0,
      options: options as TcpOption[],
    };
  }

  private freeReceiveSpace(): number {
    return Math.max(0, this.tuning.receiveBufferSize - (this.owner?.bufferedReceiveBytes() ?? 0));
  }

  /** The window field to send, remembering the right edge it promises. */
  private windowField(isSyn: boolean): number {
    const promised = Math.max(0, seqDiff(this.rcvAdvertisedEdge, this.rcvNxt));
    const window = Math.max(this.freeReceiveSpace(), promised);
    const shift = isSyn ? 0 : this.rcvShift;
    const field = Math.min(0xffff, window >>> shift);
    const edge = seqAdd(this.rcvNxt, field << shift);
    if (seqGt(edge, this.rcvAdvertisedEdge)) this.rcvAdvertisedEdge = edge;
    return field;
  }

  // ─── Timers ────────────────────────────────────────────────────────────────────────────────

  /** Keeps exactly the right timer running: retransmit while data is in flight, else persist. */
  private rearmTimer(restart: boolean): void {
    if (this.state === 'CLOSED' || this.state === 'TIME-WAIT') return;
    if (seqGt(this.sndMax, this.sndUna)) {
      if (restart || this.timerKind !== 'retransmit') this.startTimer('retransmit', this.rto.ms);
      return;
    }
    const unsent = this.sendQueue.length - seqDiff(this.sndNxt, this.queueSeq);
    if (unsent > 0 && this.sndWnd === 0 && this.canSendData()) {
      if (this.timerKind !== 'persist') {
        this.persistMs = this.rto.ms;
        this.startTimer('persist', this.persistMs);
      }
      return;
    }
    this.stopTimer();
  }

  private startTimer(kind: TimerKind, ms: number): void {
    this.timerKind = kind;
    if (this.timer !== undefined && this.timerMs === ms) {
      this.timer.ref().refresh(); // fires `ms` from now, as a new timer would
      return;
    }
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerMs = ms;
    this.timer = setTimeout(onConnectionTimer, ms, this);
  }

  /** Disarms the timer; it never keeps the process alive while disarmed. */
  private stopTimer(): void {
    this.timerKind = undefined;
    this.timer?.unref();
  }

  /** The connection is gone: its timer too. */
  private releaseTimer(): void {
    this.timerKind = undefined;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** @internal The connection's one timer fired (`onConnectionTimer`); disarmed, it does nothing. */
  onTimer(): void {
    const kind = this.timerKind;
    this.timerKind = undefined;
    if (kind === 'time-wait') return this.enterClosed();
    if (kind === 'persist') return this.onPersistTimeout();
    if (kind === 'retransmit') return this.onRetransmitTimeout();
  }

  private onRetransmitTimeout(): void {
    if (!seqGt(this.sndMax, this.sndUna)) return this.rearmTimer(false);
    if (++this.retransmissions > this.tuning.maxRetransmissions) {
      const what = this.state === 'SYN-SENT' ? 'SYN' : this.state === 'SYN-RECEIVED' ? 'SYN-ACK' : 'data';
      return this.fail(
        'ETIMEDOUT',
        `no ACK from ${this.describePeer()} for our ${what} after ${this.tuning.maxRetransmissions} retransmissions`,
      );
    }
    this.rto.backOff();
    this.duplicateAcks = 0;
    if (this.state === 'SYN-SENT') this.sendSyn(true);
    else if (this.state === 'SYN-RECEIVED') this.sendSynAck(true);
    else this.goBackN();
    this.startTimer('retransmit', this.rto.ms);
  }

  private onPersistTimeout(): void {
    if (++this.probesUnanswered > this.tuning.maxRetransmissions) {
      return this.fail('ETIMEDOUT', `${this.describePeer()} stopped answering zero-window probes`);
    }
    // Like Linux: a bare ACK with an old sequence number makes the peer answer with its window
    // without putting a byte of ours into it.
    this.emit('window-probe', ACK, seqAdd(this.sndUna, -1), EMPTY, false);
    this.persistMs = Math.min(this.persistMs * 2, this.tuning.maxRtoMs);
    this.startTimer('persist', this.persistMs);
  }

  // ─── Closing ───────────────────────────────────────────────────────────────────────────────

  private enterTimeWait(): void {
    this.state = 'TIME-WAIT';
    this.startTimer('time-wait', this.tuning.timeWaitMs);
  }

  private enterClosed(): void {
    if (this.state === 'CLOSED') return;
    this.state = 'CLOSED';
    this.releaseTimer();
    this.ackPending = false;
    this.onClosed(this);
  }

  private fail(code: TcpErrorCode, message: string, cause?: unknown): void {
    const owner = this.owner;
    this.enterClosed();
    owner?.onFailed(new TcpConnectionError(code, message, cause === undefined ? undefined : { cause }));
  }

  private describePeer(): string {
    return `${this.endpoints.remoteAddress}:${this.endpoints.remotePort}`;
  }
}

/** Every connection's timer callback: the connection rides along as the timer's argument, so arming a timer makes no closure. */
function onConnectionTimer(connection: TcpConnection): void {
  connection.onTimer();
}
