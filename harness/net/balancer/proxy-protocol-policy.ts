import { ipFamilyOf } from '../codec/address.ts';
import {
  encodeProxyHeaderV1,
  encodeProxyHeaderV2,
  PROXY_V2_FIXED_LENGTH,
  ProxyHeaderError,
  type ProxiedConnection,
  type ProxyProtocolVersion,
  type ProxyTlv,
} from '../codec/proxy-header.ts';
import type { SimulatedClient } from './simulated-clients.ts';

/**
 * What a balancer in PROXY protocol mode puts in front of each client's stream on the backend
 * connection. `form` says whether the header is the spec's, or one of the broken headers a
 * backend must refuse (never log with an address it read from them):
 *
 * - `valid`: the spec's header naming the simulated client.
 * - `local`: v1 `PROXY UNKNOWN` / v2 LOCAL: the balancer's own connection (the backend must use
 *   the real peer, the balancer).
 * - `bad-protocol` (v1): `PROXY TCP5 …`, a protocol the spec does not have.
 * - `bad-address` (v1): `PROXY TCP4 198.51.100.300 …`, an octet over 255.
 * - `bad-version` (v2): the version nibble 3 instead of 2.
 * - `short-addresses` (v2): family INET with `len` 8 and 8 address bytes, 4 short of INET's 12.
 * - `truncated`: the valid header cut in half, then FIN — the client's bytes never follow (a
 *   balancer that died mid-header). Spliced with the client's bytes it would not be truncated
 *   at all, just a header with odd addresses, which no receiver can tell.
 */
export type ProxyHeaderForm = 'valid' | 'local' | 'bad-protocol' | 'bad-address' | 'bad-version' | 'short-addresses' | 'truncated';

/** The broken forms of each version (each applies to one version only; `truncated` to both). */
export const BROKEN_PROXY_FORMS: Readonly<Record<ProxyProtocolVersion, readonly ProxyHeaderForm[]>> = Object.freeze({
  1: ['bad-protocol', 'bad-address', 'truncated'],
  2: ['bad-version', 'short-addresses', 'truncated'],
});

export interface ProxyProtocolSettings {
  version: ProxyProtocolVersion;
  /** Default `valid`. */
  form?: ProxyHeaderForm;
  /** v2: TLVs after the addresses, the same for every connection or per connection (0-based index). */
  tlvs?: readonly ProxyTlv[] | ((client: SimulatedClient, connectionIndex: number) => readonly ProxyTlv[]);
  /**
   * The address the client connected to (the header's destination), per family; the port is the
   * backend's. Default: the lab's VIP, 192.0.2.100 and 2001:db8::100 — where a real balancer's
   * clients connect.
   */
  destination?: { 4: string; 6: string };
}

/** Where the lab's clients connect (the VIP of balancer-profiles.ts), in each family. */
export const DEFAULT_PROXY_DESTINATION = Object.freeze({ 4: '192.0.2.100', 6: '2001:db8::100' });

/** The bytes to send first, and whether the backend connection ends right after them (no client bytes). */
export interface ProxyHeaderPlan {
  bytes: Uint8Array;
  endAfterHeader: boolean;
}

/** Checks settings once, up front: a form the version does not have is refused, not sent as something else. */
export function checkProxySettings(settings: ProxyProtocolSettings): void {
  if (settings.version !== 1 && settings.version !== 2) throw new ProxyHeaderError(`PROXY protocol version must be 1 or 2, got ${String(settings.version)}`);
  const form = settings.form ?? 'valid';
  const forVersion: ProxyHeaderForm[] = ['valid', 'local', ...BROKEN_PROXY_FORMS[settings.version]];
  if (!forVersion.includes(form)) throw new ProxyHeaderError(`PROXY v${settings.version} has no '${form}' form; it has ${forVersion.join(', ')}`);
  if (settings.version === 1 && settings.tlvs) throw new ProxyHeaderError('PROXY v1 has no TLVs');
}

/** The header for the n-th connection, relaying for `client` to the backend's `port`. */
export function proxyHeaderFor(settings: ProxyProtocolSettings, client: SimulatedClient, connectionIndex: number, port: number): ProxyHeaderPlan {
  const destination = (settings.destination ?? DEFAULT_PROXY_DESTINATION)[ipFamilyOf(client.address)];
  const connection: ProxiedConnection = { source: { address: client.address, port: client.port }, destination: { address: destination, port } };
  const tlvs = typeof settings.tlvs === 'function' ? settings.tlvs(client, connectionIndex) : (settings.tlvs ?? []);
  const valid = (): Uint8Array => (settings.version === 1 ? encodeProxyHeaderV1(connection) : encodeProxyHeaderV2(connection, tlvs));
  const form = settings.form ?? 'valid';
  switch (form) {
    case 'valid':
      return { bytes: valid(), endAfterHeader: false };
    case 'local':
      return { bytes: settings.version === 1 ? encodeProxyHeaderV1('unknown') : encodeProxyHeaderV2('local', tlvs), endAfterHeader: false };
    case 'bad-protocol':
      return { bytes: replaceText(valid(), `TCP${ipFamilyOf(client.address)} `, 'TCP5 '), endAfterHeader: false };
    case 'bad-address': {
      // The first octet of the source over 255, whatever the client's family (an IPv6 client gets an IPv4-looking lie).
      const line = `PROXY TCP4 198.51.100.300 ${(settings.destination ?? DEFAULT_PROXY_DESTINATION)[4]} ${client.port} ${port}\r\n`;
      return { bytes: Uint8Array.from(line, (c) => c.charCodeAt(0)), endAfterHeader: false };
    }
    case 'bad-version': {
      const bytes = valid();
      bytes[12] = 0x30 | (bytes[12]! & 0x0f);
      return { bytes, endAfterHeader: false };
    }
    case 'short-addresses': {
      // INET's block is 12 bytes; announce and send 8 (source and destination, no ports).
      const bytes = valid().slice(0, PROXY_V2_FIXED_LENGTH + 8);
      bytes[13] = 0x11;
      bytes[14] = 0;
      bytes[15] = 8;
      if (ipFamilyOf(client.address) === 6) bytes.set([198, 51, 100, 1, 192, 0, 2, 100], PROXY_V2_FIXED_LENGTH);
      return { bytes, endAfterHeader: false };
    }
    case 'truncated': {
      const bytes = valid();
      return { bytes: bytes.slice(0, Math.floor(bytes.length / 2)), endAfterHeader: true };
    }
  }
}

function replaceText(bytes: Uint8Array, from: string, to: string): Uint8Array {
  const text = Buffer.from(bytes).toString('latin1');
  if (!text.includes(from)) throw new Error(`internal: '${from}' not in the v1 header '${text.trim()}'`);
  return Uint8Array.from(text.replace(from, to), (c) => c.charCodeAt(0));
}
