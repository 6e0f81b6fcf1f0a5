import { ipFamilyOf, normalizeIpAddress } from '../codec/address.ts';
import type { UdpDatagram } from '../codec/udp.ts';
import { EphemeralPortAllocator } from './ephemeral-ports.ts';
import type { HostAddresses } from './host-addresses.ts';
import { UdpSocket, type UdpSocketOwner } from './udp-socket.ts';

export interface UdpBindOptions {
  /** Default: a free ephemeral port. */
  port?: number;
  /** Bind to one of the host's addresses only; default every address (both families). */
  address?: string;
}

/** Hands a datagram to the host, which wraps it in IP and Ethernet. */
export type UdpDatagramSender = (
  source: string,
  sourcePort: number,
  destination: string,
  destinationPort: number,
  payload: Uint8Array,
) => void;

const ANY_ADDRESS = '*';
const bindingKey = (address: string, port: number): string => `${address}:${port}`;

/** UDP demultiplexing for one host: bound sockets by address and port, and ephemeral ports. */
export class UdpEngine implements UdpSocketOwner {
  private readonly sockets = new Map<string, UdpSocket>();
  /** Sockets per port, whatever their address: an ephemeral port must have none. */
  private readonly socketsPerPort = new Map<number, number>();
  private readonly ports = new EphemeralPortAllocator();

  constructor(
    private readonly sendDatagram: UdpDatagramSender,
    private readonly localAddresses: HostAddresses,
  ) {}

  bind(options: UdpBindOptions = {}): UdpSocket {
    const address = options.address === undefined ? undefined : normalizeIpAddress(options.address);
    if (address !== undefined && !this.localAddresses.has(address)) {
      throw new Error(`${address} is not an address of this host (${this.localAddresses.describe()})`);
    }
    // An explicit port conflicts only with the same (address, port): a socket on one address and
    // a wildcard one may share a port, and the address-bound one gets its datagrams first. An
    // ephemeral port is one nobody uses at all.
    const key = (port: number): string => bindingKey(address ?? ANY_ADDRESS, port);
    const port = options.port ?? this.ports.allocate((candidate) => !this.socketsPerPort.has(candidate));
    if (this.sockets.has(key(port))) throw new Error(`UDP port ${address ?? '*'}:${port} is already bound`);
    const socket = new UdpSocket(this, address, port);
    this.sockets.set(key(port), socket);
    this.socketsPerPort.set(port, (this.socketsPerPort.get(port) ?? 0) + 1);
    return socket;
  }

  /** Delivers a datagram; false when no socket is bound to its destination. */
  receive(source: string, destination: string, datagram: UdpDatagram): boolean {
    const socket =
      this.sockets.get(bindingKey(destination, datagram.destinationPort)) ??
      this.sockets.get(bindingKey(ANY_ADDRESS, datagram.destinationPort));
    if (!socket) return false;
    socket.deliver(datagram.payload, {
      address: source,
      port: datagram.sourcePort,
      family: ipFamilyOf(source),
      localAddress: destination,
    });
    return true;
  }

  send(socket: UdpSocket, data: Uint8Array, port: number, address: string): void {
    if (!Number.isInteger(port) || port < 1 || port > 0xffff) throw new RangeError(`UDP destination port must be 1..65535, got ${port}`);
    const destination = normalizeIpAddress(address);
    const family = ipFamilyOf(destination);
    const source = socket.localAddress ?? this.localAddresses.defaultFor(family);
    if (source === undefined) throw new Error(`no IPv${family} address on this host to reach ${destination} from`);
    if (ipFamilyOf(source) !== family) throw new Error(`cannot send from ${source} to ${destination}: different families`);
    this.sendDatagram(source, socket.localPort, destination, port, data);
  }

  release(socket: UdpSocket): void {
    const key = bindingKey(socket.localAddress ?? ANY_ADDRESS, socket.localPort);
    if (this.sockets.get(key) !== socket) return;
    this.sockets.delete(key);
    const left = this.socketsPerPort.get(socket.localPort)! - 1;
    if (left === 0) this.socketsPerPort.delete(socket.localPort);
    else this.socketsPerPort.set(socket.localPort, left);
  }

  closeAll(): void {
    for (const socket of [...this.sockets.values()]) socket.close();
  }
}
