import { EventEmitter } from 'node:events';
import { ipFamilyOf, type IpFamily } from '../codec/address.ts';

/** Where a datagram came from — the shape of node's `dgram` rinfo, minus `size`. */
export interface UdpRemoteInfo {
  address: string;
  port: number;
  family: IpFamily;
  /** Our address it was sent to (useful on a socket bound to every address). */
  localAddress: string;
}

interface UdpSocketEvents {
  message: [data: Buffer, remote: UdpRemoteInfo];
  close: [];
}

/** What a socket needs from its engine: sending, and giving the port back. */
export interface UdpSocketOwner {
  send(socket: UdpSocket, data: Uint8Array, port: number, address: string): void;
  release(socket: UdpSocket): void;
}

export interface UdpSocketCounters {
  datagramsSent: number;
  bytesSent: number;
  datagramsReceived: number;
  bytesReceived: number;
}

/**
 * A bound UDP port on a userspace host, shaped like node's `dgram.Socket` where it matters:
 * `send(data, port, address)` and a `'message'` event with `(data, rinfo)`. Datagrams are
 * neither fragmented nor queued: one that does not fit the MTU throws a RangeError, and one
 * sent to a neighbour that never answers ARP / NS is dropped, as a kernel would.
 */
export class UdpSocket extends EventEmitter<UdpSocketEvents> {
  readonly counters: UdpSocketCounters = { datagramsSent: 0, bytesSent: 0, datagramsReceived: 0, bytesReceived: 0 };
  private closed = false;

  constructor(
    private readonly owner: UdpSocketOwner,
    /** `undefined`: bound to every address of the host. */
    readonly localAddress: string | undefined,
    readonly localPort: number,
  ) {
    super();
  }

  /** The family this socket is bound to, or `undefined` for any. */
  get family(): IpFamily | undefined {
    return this.localAddress === undefined ? undefined : ipFamilyOf(this.localAddress);
  }

  send(data: Uint8Array, port: number, address: string): void {
    if (this.closed) throw new Error(`UDP socket ${this.localAddress ?? '*'}:${this.localPort} is closed`);
    this.owner.send(this, data, port, address);
    this.counters.datagramsSent++;
    this.counters.bytesSent += data.length;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.owner.release(this);
    this.emit('close');
  }

  /** Called by the engine for each datagram addressed to this socket. */
  deliver(data: Uint8Array, remote: UdpRemoteInfo): void {
    if (this.closed) return;
    this.counters.datagramsReceived++;
    this.counters.bytesReceived += data.length;
    this.emit('message', Buffer.from(data.buffer, data.byteOffset, data.byteLength), remote);
  }
}
