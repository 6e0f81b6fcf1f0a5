import type { GuestShell } from '../remote/guest-shell.ts';

/**
 * Open TCP connections on a local port, as the guest's kernel lists them in
 * /proc/net/tcp and /proc/net/tcp6: evidence that connections are open which
 * does not depend on the TOA module under test. Open means ESTABLISHED (01)
 * or CLOSE_WAIT (08): a client that half-closed after its request still
 * receives the response.
 */
const OPEN_STATES = new Set(['01', '08']);

export async function countOpenConnections(guest: GuestShell, localPort: number): Promise<number> {
  const result = await guest.run('cat /proc/net/tcp /proc/net/tcp6 2>/dev/null');
  return countOpenConnectionsIn(result.stdout, localPort);
}

/** Pure part: rows whose local port matches and whose state is 01 (ESTABLISHED) or 08 (CLOSE_WAIT). */
export function countOpenConnectionsIn(procNetTcp: string, localPort: number): number {
  const port = localPort.toString(16).toUpperCase().padStart(4, '0');
  return procNetTcp
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields[1]?.endsWith(`:${port}`) && OPEN_STATES.has(fields[3] ?? '')).length;
}

export async function waitForOpenConnections(guest: GuestShell, localPort: number, wanted: number, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const count = await countOpenConnections(guest, localPort);
    if (count >= wanted || Date.now() > deadline) return count;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * The guest's own row for one IPv4 peer's connection to a local port, as /proc/net/tcp
 * lists it: its state, and its `retrnsmt` (for a SYN_RECV request: how many times the guest
 * has resent its SYN-ACK). `undefined`: the guest lists no such connection.
 */
export interface GuestTcpRow {
  state: 'SYN_RECV' | 'ESTABLISHED' | 'other';
  retransmits: number;
  row: string;
}

export async function findBalancerConnection(guest: GuestShell, localPort: number, peer: { ip: string; port: number }): Promise<GuestTcpRow | undefined> {
  const result = await guest.run('cat /proc/net/tcp');
  return findConnectionIn(result.stdout, localPort, peer);
}

/** Pure part of findBalancerConnection. */
export function findConnectionIn(procNetTcp: string, localPort: number, peer: { ip: string; port: number }): GuestTcpRow | undefined {
  const local = `:${hexPort(localPort)}`;
  const remote = `${procNetIpv4(peer.ip)}:${hexPort(peer.port)}`;
  for (const line of procNetTcp.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields[1]?.endsWith(local) && fields[2] === remote) {
      const state = fields[3] === '03' ? 'SYN_RECV' : fields[3] === '01' ? 'ESTABLISHED' : 'other';
      return { state, retransmits: parseInt(fields[6] ?? '', 16), row: line.trim() };
    }
  }
  return undefined;
}

function hexPort(port: number): string {
  return port.toString(16).toUpperCase().padStart(4, '0');
}

/** An IPv4 address as the kernel prints it there: the raw 32 bits of the address as a host-order (little-endian) word. */
function procNetIpv4(ip: string): string {
  return ip
    .split('.')
    .map((octet) => Number(octet).toString(16).toUpperCase().padStart(2, '0'))
    .reverse()
    .join('');
}
