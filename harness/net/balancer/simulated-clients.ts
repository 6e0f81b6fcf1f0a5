import { ipv4ToNumber, numberToIpv4 } from '../codec/address.ts';

/** A client the balancer pretends to be relaying for: what TOA reports to the backend. */
export interface SimulatedClient {
  address: string;
  port: number;
}

/** The documentation ranges simulated IPv4 clients come from (RFC 5737 TEST-NET-2 and -3). */
const CLIENT_NETWORKS = ['198.51.100.0', '203.0.113.0'];
const HOSTS_PER_NETWORK = 254; // .1 to .254: never the network (.0) or broadcast (.255) address
const FIRST_CLIENT_PORT = 40001;
const CLIENT_PORTS = 25000;

/**
 * Default client picker: the n-th connection gets the n-th address of 198.51.100.1–254 then
 * 203.0.113.1–254 (cycling), and port 40001 + n (cycling after 25,000). Deterministic, so a
 * test can predict the injected client, and every connection in a run differs in both.
 */
export function createSimulatedClientCycle(): (connectionIndex: number) => SimulatedClient {
  const bases = CLIENT_NETWORKS.map(ipv4ToNumber);
  return (index) => {
    const slot = index % (bases.length * HOSTS_PER_NETWORK);
    const network = Math.floor(slot / HOSTS_PER_NETWORK);
    return {
      address: numberToIpv4(bases[network]! + 1 + (slot % HOSTS_PER_NETWORK)),
      port: FIRST_CLIENT_PORT + (index % CLIENT_PORTS),
    };
  };
}
