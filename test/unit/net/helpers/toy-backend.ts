import { findToaOption, type ToaAddress } from '../../../../harness/net/codec/toa-option.ts';
import { NetworkHost } from '../../../../harness/net/stack/network-host.ts';
import type { TcpSocket } from '../../../../harness/net/stack/tcp-socket.ts';
import type { Wire } from '../../../../harness/net/wire/wire.ts';
import { decodeTcpFrame, FAST_ARP, FAST_TIMERS, SERVER_IP, SERVER_MAC } from './lab-pair.ts';

export interface BackendLogLine {
  /** The peer as the socket sees it (the balancer). */
  peer: string;
  /** What a TOA module would report: the option from the segments of this connection, if any. */
  toa: ToaAddress | undefined;
  request: string;
}

/**
 * Stands in for the guest: a userspace host at 192.0.2.10:80 answering HTTP/1.0-style requests
 * with what it saw, and keeping an access log. Like a TOA module, it takes the client address
 * from the TOA option found on the connection's segments.
 */
export class ToyBackend {
  readonly host: NetworkHost;
  readonly log: BackendLogLine[] = [];
  readonly sockets: TcpSocket[] = [];
  private readonly toaByPeer = new Map<string, ToaAddress>();

  constructor(wire: Wire, addresses: string[] = [SERVER_IP]) {
    this.host = new NetworkHost({
      wire,
      mac: SERVER_MAC,
      addresses,
      tcp: FAST_TIMERS,
      arp: FAST_ARP,
      tap: (frame, direction) => {
        if (direction !== 'in') return;
        const decoded = decodeTcpFrame(frame);
        const toa = decoded && findToaOption(decoded.tcp.options);
        const key = decoded && `${decoded.ip.source}:${decoded.tcp.sourcePort}`;
        if (toa && key && !this.toaByPeer.has(key)) this.toaByPeer.set(key, toa);
      },
    });
    this.host.listen({ port: 80 }, (socket) => this.serve(socket));
  }

  close(): void {
    this.host.close();
  }

  private serve(socket: TcpSocket): void {
    this.sockets.push(socket);
    socket.on('error', () => {});
    const peer = `${socket.remoteAddress}:${socket.remotePort}`; // same key form as the tap's
    let request = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      request = Buffer.concat([request, chunk]);
      const end = request.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = request.subarray(0, end).toString();
      const toa = this.toaByPeer.get(peer);
      this.log.push({ peer, toa, request: head.split('\r\n')[0]! });
      const body = head.startsWith('POST') ? request.subarray(end + 4) : Buffer.from(`client=${toa ? `${toa.address}:${toa.port}` : peer}`);
      if (head.startsWith('POST')) {
        // Echo the upload: everything after the header, streamed back until the client ends.
        socket.write('HTTP/1.0 200 OK\r\n\r\n');
        socket.write(body);
        socket.removeAllListeners('data');
        socket.pipe(socket);
        return;
      }
      socket.end(`HTTP/1.0 200 OK\r\n\r\n${body}`);
    });
  }
}
