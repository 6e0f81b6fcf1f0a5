import { ipv4ToNumber, numberToIpv4 } from '../codec/address.ts';

/** A client the balancer pretends to be relaying for: what TOA reports to the backend. */
export interface SimulatedClient {
  address: string;
  port: number;
}

/** The documentation ranges simulated IPv4 clients come from (RFC 5737 TEST-NET-2 and -3). */
const CLIENT_NETWORKS = ['198.51.100.0', '203.0.113.0'];
const HOSTS_PER_NETWORK = 254; // .1 to .254: never the network (.0) or broadcast (.255) address
/** Simulated IPv6 clients: 2001:db8:1::1 upwards (RFC 3849 documentation prefix, its own /64). */
const IPV6_CLIENT_PREFIX = '2001:db8:1::';
const IPV6_CLIENT_HOSTS = 0xfffe; // interface ids ::1 to ::fffe
const FIRST_CLIENT_PORT = 40001;
const CLIENT_PORTS = 25000;

/**
 * Every (address, port) pair repeats only after this many connections: the address cycle (508
 * IPv4 addresses, or 65,534 IPv6 ones) and the port cycle (25,000) run side by side, so a pair
 * comes back after their least common multiple — 3,175,000 for IPv4. Plenty for the `load`
 * scenario's 10,000 connections, where the port alone is already unique.
 */
export const SIMULATED_CLIENT_PAIRS_IPV4 = 3_175_000;

export interface SimulatedClientCycleOptions {
  /** IPv4 (default) clients from 198.51.100.0/24 and 203.0.113.0/24, or IPv6 from 2001:db8:1::/64. */
  family?: 4 | 6;
}

/**
 * Default client picker: the n-th connection gets the n-th address of 198.51.100.1–254 then
 * 203.0.113.1–254 (cycling) — or, for IPv6, 2001:db8:1::(n+1) — and port 40001 + n (cycling
 * after 25,000). Deterministic, so a test can predict the injected client; consecutive
 * connections differ in both address and port, and no (address, port) pair repeats within a
 * run (see `SIMULATED_CLIENT_PAIRS_IPV4`).
 */
export function createSimulatedClientCycle(options: SimulatedClientCycleOptions = {}): (connectionIndex: number) => SimulatedClient {
  const port = (index: number): number => FIRST_CLIENT_PORT + (index % CLIENT_PORTS);
  if (options.family === 6) {
    return (index) => ({ address: `${IPV6_CLIENT_PREFIX}${((index % IPV6_CLIENT_HOSTS) + 1).toString(16)}`, port: port(index) });
  }
  const bases = CLIENT_NETWORKS.map(ipv4ToNumber);
  // One string per address, built once: the same string each time it comes round again is
  // cheaper downstream too (the TOA encoder's cache looks it up by this string).
  const addresses: string[] = [];
  return (index) => {
    const slot = index % (bases.length * HOSTS_PER_NETWORK);
    const network = Math.floor(slot / HOSTS_PER_NETWORK);
    const address = (addresses[slot] ??= numberToIpv4(bases[network]! + 1 + (slot % HOSTS_PER_NETWORK)));
    return { address, port: port(index) };
  };
}
