import { Duplex } from 'node:stream';
import type { TcpConnection, TcpConnectionOwner, TcpState } from './tcp-connection.ts';
import type { TcpConnectionError } from './tcp-errors.ts';

/**
 * A userspace TCP connection as a node Duplex stream, so it pipes to and from `net.Socket`
 * with backpressure and half-close for free.
 *
 * - Readable side: data is pushed as it arrives; whatever the consumer has not read shrinks our
 *   advertised window (the receive buffer is the readable buffer). Peer FIN → 'end'.
 * - Writable side: a write completes once its bytes fit in the send buffer (unacknowledged
 *   bytes ≤ `sendBufferSize`); `end()` sends FIN after the data. Half-open is allowed.
 * - `destroy()` aborts with RST unless both directions have already finished (then the close
 *   completes normally in the background). Peer RST → 'error' with code ECONNRESET.
 * - 'connect' fires when the handshake completes.
 */
export class TcpSocket extends Duplex implements TcpConnectionOwner {
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Payload bytes delivered to the readable side. */
  bytesRead = 0;
  /** Payload bytes the application wrote. */
  bytesWritten = 0;
  private established = false;
  private blockedWrite: ((error?: Error | null) => void) | undefined;

  constructor(
    private readonly connection: TcpConnection,
    private readonly sendBufferSize: number,
    receiveBufferSize: number,
    /** Accepted from a listener: nobody holds this socket until the handshake completes. */
    private readonly passive: boolean,
  ) {
    super({ allowHalfOpen: true, readableHighWaterMark: receiveBufferSize });
    ({
      localAddress: this.localAddress,
      localPort: this.localPort,
      remoteAddress: this.remoteAddress,
      remotePort: this.remotePort,
    } = connection.endpoints);
    connection.attach(this);
  }

  /** The TCP state of the underlying connection (CLOSED once it is gone). */
  get tcpState(): TcpState {
    return this.connection.state;
  }

  get connecting(): boolean {
    return !this.established && !this.destroyed;
  }

  get smoothedRttMs(): number | undefined {
    return this.connection.smoothedRttMs;
  }

  /** Fast Open: the peer acknowledged our SYN's data (active), or we took the SYN's data (passive). */
  get synDataAccepted(): boolean {
    return this.connection.synDataAccepted;
  }

  /**
   * Writes `data` and ends the stream so that the bytes and our FIN leave in the same segment
   * (if they fit one) — what a balancer does when the whole request and the client's FIN reached
   * it together. Only as the very last write, with nothing buffered before it.
   */
  endWith(data: Uint8Array): void {
    if (this.writableEnded || this.writableLength > 0) {
      throw new Error('endWith() must be the only pending write and come before end()');
    }
    this.bytesWritten += data.length;
    this.connection.writeAndClose(data);
    this.end(); // _final's close() finds the FIN already queued
  }

  // ─── TcpConnectionOwner ──────────────────────────────────────────────────────────────────

  onEstablished(): void {
    this.established = true;
    this.emit('connect');
  }

  onData(data: Uint8Array): void {
    this.bytesRead += data.length;
    this.push(data);
  }

  onPeerFinished(): void {
    this.push(null);
  }

  onSendSpace(): void {
    if (this.blockedWrite && this.connection.unacknowledgedBytes < this.sendBufferSize) {
      const callback = this.blockedWrite;
      this.blockedWrite = undefined;
      callback();
    }
  }

  onFailed(error: TcpConnectionError): void {
    // A half-open accepted connection has no owner to tell: an 'error' would go unhandled.
    // (A Fast Open one was handed out on its SYN, but the listener may not watch for errors yet.)
    if (this.passive && !this.established) this.destroy();
    else this.destroy(error);
  }

  onAborted(): void {
    this.destroy();
  }

  bufferedReceiveBytes(): number {
    return this.readableLength;
  }

  // ─── Duplex ──────────────────────────────────────────────────────────────────────────────

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.bytesWritten += chunk.length;
    this.connection.write(chunk);
    this.completeWhenBuffered(callback);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    for (const { chunk } of chunks) {
      this.bytesWritten += chunk.length;
      this.connection.write(chunk);
    }
    this.completeWhenBuffered(callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.connection.close();
    callback();
  }

  override _read(): void {
    this.connection.receiveBufferDrained();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.blockedWrite = undefined;
    if (!this.connection.closingGracefully) this.connection.abort();
    // Late events from a connection finishing its close must not touch a destroyed stream.
    this.connection.attach(undefined);
    callback(error);
  }

  private completeWhenBuffered(callback: (error?: Error | null) => void): void {
    if (this.connection.unacknowledgedBytes < this.sendBufferSize) callback();
    else this.blockedWrite = callback;
  }
}
