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
