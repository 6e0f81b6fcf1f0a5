import type { GuestShell } from '../remote/guest-shell.ts';

/**
 * The guest kernel's own TCP counters: /proc/net/netstat (TcpExt: SyncookiesSent,
 * SyncookiesRecv, TCPSynRetrans…) and /proc/net/snmp (Tcp: ActiveOpens…), as
 * `Group.Name → value`. Each group comes as two lines, names then values.
 */
export type NetCounters = ReadonlyMap<string, number>;

export function parseNetCounters(text: string): Map<string, number> {
  const counters = new Map<string, number>();
  const lines = text.split('\n').filter((l) => l.includes(':'));
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const [group = '', ...names] = lines[i]!.trim().split(/\s+/);
    const [valueGroup = '', ...values] = lines[i + 1]!.trim().split(/\s+/);
    if (group !== valueGroup) continue; // not a names/values pair
    names.forEach((name, n) => {
      const value = Number(values[n]);
      if (Number.isFinite(value)) counters.set(`${group.replace(/:$/, '')}.${name}`, value);
    });
  }
  return counters;
}

export async function readNetCounters(guest: GuestShell): Promise<NetCounters> {
  return parseNetCounters((await guest.check('cat /proc/net/netstat /proc/net/snmp')).stdout);
}

/** How much a counter grew between two readings (0 when the kernel does not have it). */
export function counterGrowth(before: NetCounters, after: NetCounters, name: string): number {
  return (after.get(name) ?? 0) - (before.get(name) ?? 0);
}
