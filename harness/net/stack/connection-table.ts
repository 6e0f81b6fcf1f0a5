import type { TcpConnection } from './tcp-connection.ts';

/**
 * The TCP connections of one host, by 4-tuple. Every segment received is looked up here, so the
 * key is a number made of the two ports (exact: no string to build and hash per segment); the
 * few connections that share both ports and differ in address (a DSR balancer's simulated
 * clients) share an entry and are told apart by address.
 */
export class ConnectionTable {
  private readonly byPorts = new Map<number, TcpConnection | TcpConnection[]>();
  /** Every connection, in the order it was added: what `values` walks (aborts go out in that order). */
  private readonly all = new Set<TcpConnection>();

  get size(): number {
    return this.all.size;
  }

  get(localAddress: string, localPort: number, remoteAddress: string, remotePort: number): TcpConnection | undefined {
    const entry = this.byPorts.get(portsKey(localPort, remotePort));
    if (entry === undefined) return undefined;
    if (!Array.isArray(entry)) return hasAddresses(entry, localAddress, remoteAddress) ? entry : undefined;
    return entry.find((connection) => hasAddresses(connection, localAddress, remoteAddress));
  }

  /** Adds a connection; its 4-tuple must not be in the table yet. */
  add(connection: TcpConnection): void {
    const key = portsKey(connection.endpoints.localPort, connection.endpoints.remotePort);
    const entry = this.byPorts.get(key);
    if (entry === undefined) this.byPorts.set(key, connection);
    else if (Array.isArray(entry)) entry.push(connection);
    else this.byPorts.set(key, [entry, connection]);
    this.all.add(connection);
  }

  /** Removes this connection (not another one that took its 4-tuple over). */
  delete(connection: TcpConnection): void {
    if (!this.all.delete(connection)) return;
    const key = portsKey(connection.endpoints.localPort, connection.endpoints.remotePort);
    const entry = this.byPorts.get(key);
    if (entry === connection) {
      this.byPorts.delete(key);
    } else if (Array.isArray(entry)) {
      const rest = entry.filter((other) => other !== connection);
      this.byPorts.set(key, rest.length === 1 ? rest[0]! : rest);
    }
  }

  values(): IterableIterator<TcpConnection> {
    return this.all.values();
  }
}

/** Both ports in one signed 32-bit integer: exact, and a small integer to V8 (no heap number per lookup). */
function portsKey(localPort: number, remotePort: number): number {
  return (localPort << 16) | remotePort;
}

function hasAddresses(connection: TcpConnection, localAddress: string, remoteAddress: string): boolean {
  return connection.endpoints.localAddress === localAddress && connection.endpoints.remoteAddress === remoteAddress;
}
