import { describe, expect, it } from 'vitest';
import { ConnectionTable } from '../../../../harness/net/stack/connection-table.ts';
import type { TcpConnection, TcpEndpoints } from '../../../../harness/net/stack/tcp-connection.ts';

/** The table reads nothing but the endpoints. */
const connection = (endpoints: TcpEndpoints): TcpConnection => ({ endpoints }) as TcpConnection;

describe('ConnectionTable', () => {
  it('finds a connection by its 4-tuple, and nothing for another address on the same ports', () => {
    const table = new ConnectionTable();
    const a = connection({ localAddress: '192.0.2.2', localPort: 50000, remoteAddress: '192.0.2.10', remotePort: 80 });
    table.add(a);
    expect(table.get('192.0.2.2', 50000, '192.0.2.10', 80)).toBe(a);
    expect(table.get('192.0.2.2', 50000, '192.0.2.11', 80)).toBeUndefined();
    expect(table.get('192.0.2.2', 50001, '192.0.2.10', 80)).toBeUndefined();
    expect(table.get('192.0.2.2', 80, '192.0.2.10', 50000)).toBeUndefined();
  });

  it('keeps connections that share both ports apart by address (DSR simulated clients), and deletes only the one asked', () => {
    const table = new ConnectionTable();
    const first = connection({ localAddress: '198.51.100.1', localPort: 40001, remoteAddress: '192.0.2.100', remotePort: 80 });
    const second = connection({ localAddress: '198.51.100.2', localPort: 40001, remoteAddress: '192.0.2.100', remotePort: 80 });
    const third = connection({ localAddress: '198.51.100.3', localPort: 40001, remoteAddress: '192.0.2.100', remotePort: 80 });
    for (const c of [first, second, third]) table.add(c);
    expect(table.get('198.51.100.2', 40001, '192.0.2.100', 80)).toBe(second);
    table.delete(second);
    expect(table.get('198.51.100.2', 40001, '192.0.2.100', 80)).toBeUndefined();
    expect(table.get('198.51.100.1', 40001, '192.0.2.100', 80)).toBe(first);
    expect(table.get('198.51.100.3', 40001, '192.0.2.100', 80)).toBe(third);
    table.delete(first);
    expect(table.get('198.51.100.3', 40001, '192.0.2.100', 80)).toBe(third);
    expect(table.size).toBe(1);
  });

  it('walks connections in the order they were added; deleting one twice or one never added changes nothing', () => {
    const table = new ConnectionTable();
    const ports = [65535, 49152, 1, 65535];
    const added = ports.map((port, i) =>
      connection({ localAddress: '192.0.2.2', localPort: port, remoteAddress: `192.0.2.${10 + i}`, remotePort: 65535 }),
    );
    for (const c of added) table.add(c);
    table.delete(added[1]!);
    table.delete(added[1]!);
    table.delete(connection({ localAddress: '192.0.2.2', localPort: 1, remoteAddress: '192.0.2.12', remotePort: 65535 }));
    expect([...table.values()]).toEqual([added[0], added[2], added[3]]);
    expect(table.get('192.0.2.2', 65535, '192.0.2.13', 65535)).toBe(added[3]);
  });
});
