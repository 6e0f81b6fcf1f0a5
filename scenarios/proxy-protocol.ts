import type { ProxyRequestLine } from '../harness/checks/proxy-backend-log.ts';
import { check, type Check, type Scenario } from '../harness/core/scenario.ts';
import { SPOOFER_ADDRESS, type DataPathLab } from '../harness/lab/data-path-lab.ts';
import { answered, describeResult, runProxyRound, type ProxyConnection, type ProxyRound } from '../harness/lab/proxy-traffic.ts';
import type { ProxyBackend } from '../harness/guest/proxy-backends.ts';
import { BROKEN_PROXY_FORMS, normalizeIpAddress, PP2_TYPE, type ProxyProtocolVersion, type ProxyTlv, type SimulatedClient } from '../harness/net/index.ts';

const BALANCER = '192.0.2.2';
/** One client of each documentation range, IPv6 included (the header names it; the connection stays IPv4). */
const CLIENTS: readonly SimulatedClient[] = [
  { address: '198.51.100.21', port: 41001 },
  { address: '203.0.113.22', port: 41002 },
  { address: '2001:db8:1::23', port: 41003 },
];
const FORGED_CLIENT: SimulatedClient = { address: '203.0.113.250', port: 4444 };
const SPOOF_CONNECTIONS = 2;
/** v2 TLVs: the authority (what the client asked for, as SNI would) and a per-connection id. */
const AUTHORITY = 'toa-lab.example';
const uniqueId = (client: SimulatedClient): string => `toa-lab-${client.port}`;
const v2Tlvs = (client: SimulatedClient): ProxyTlv[] => [
  { type: PP2_TYPE.AUTHORITY, value: Buffer.from(AUTHORITY) },
  { type: PP2_TYPE.UNIQUE_ID, value: Buffer.from(uniqueId(client)) },
];

/**
 * The PROXY protocol beside TOA: the balancer writes the client's address in front of the
 * stream and the backend application reads it — no kernel module. The same questions as for
 * TOA, asked of real nginx and HAProxy from the guest's packages: is the client seen; is a
 * header from anyone but the balancer believed; is a broken header refused, never logged with
 * an address read from it. Each verdict is the backend's own log line (or its refusal).
 */
function proxyProtocolScenario(version: ProxyProtocolVersion): Scenario<DataPathLab> {
  const broken = BROKEN_PROXY_FORMS[version];
  const own = version === 1 ? 'PROXY UNKNOWN' : 'LOCAL';
  return {
    id: `proxy-protocol-v${version}`,
    title: `PROXY protocol v${version}${version === 2 ? ' (with TLVs)' : ''}: nginx and HAProxy see the client, trust only the balancer, refuse broken headers`,
    mechanism: version === 1 ? 'proxy-v1' : 'proxy-v2',
    setup:
      `nginx (listen proxy_protocol; set_real_ip_from ${BALANCER}/32; real_ip_header proxy_protocol) and HAProxy (bind accept-proxy; ` +
      `tcp-request connection reject unless src ${BALANCER}), from the guest's packages, each logging the client it believes per request`,
    sends:
      `to each: from the balancer ${BALANCER}, ${CLIENTS.length} requests behind a v${version} header naming ${CLIENTS.map((c) => `${c.address}:${c.port}`).join(', ')}` +
      `${version === 2 ? ` (TLVs: authority ${AUTHORITY}, a unique id per connection)` : ''} and one ${own} header; ` +
      `from ${SPOOFER_ADDRESS} (not the balancer) ${SPOOF_CONNECTIONS} requests behind a header naming ${FORGED_CLIENT.address}; ` +
      `then one connection per broken header (${broken.join(', ')}; truncated = half a header, then FIN)`,
    passesWhen:
      `each backend logs every client from the header (address and port)${version === 2 ? ', HAProxy also the TLVs' : ''}, and the balancer itself for ${own}; ` +
      `the spoofer is refused (HAProxy counts it in dcon) or logged as itself (nginx), never as ${FORGED_CLIENT.address}; ` +
      `no broken header gets a request line or an answer, and the backend logs why it refused`,
    notApplicable: (lab) =>
      lab.proxyBackends ? undefined : "not applicable: needs nginx or HAProxy in the guest (a whole OS); a micro-VM's busybox has neither",
    async run(lab) {
      const backends = await lab.proxyBackends!.start();
      const checks: Check[] = [];
      for (const backend of backends) checks.push(...(await checkBackend(lab, backend, version)));
      return checks;
    },
  };
}

export const proxyProtocolV1 = proxyProtocolScenario(1);
export const proxyProtocolV2 = proxyProtocolScenario(2);

async function checkBackend(lab: DataPathLab, backend: ProxyBackend, version: ProxyProtocolVersion): Promise<Check[]> {
  const trusted = await runProxyRound(lab, backend, [
    {
      label: 'clients',
      proxyProtocol: { version, ...(version === 2 && { tlvs: v2Tlvs }) },
      connections: CLIENTS.length,
      chooseClient: (i) => CLIENTS[i % CLIENTS.length]!,
    },
    { label: 'own', proxyProtocol: { version, form: 'local' }, connections: 1 },
  ]);
  const deniedBefore = await backend.deniedConnections?.();
  const spoof = await runProxyRound(lab, backend, [
    { label: 'spoof', proxyProtocol: { version }, connections: SPOOF_CONNECTIONS, address: SPOOFER_ADDRESS, chooseClient: () => FORGED_CLIENT },
  ]);
  const deniedAfter = await backend.deniedConnections?.();
  const refused = await runProxyRound(
    lab,
    backend,
    BROKEN_PROXY_FORMS[version].map((form) => ({ label: form, proxyProtocol: { version, form }, connections: 1 })),
  );

  const label = `${backend.label}, v${version}`;
  const clients = trusted.connections.filter((c) => c.leg.label === 'clients');
  const ownConnection = trusted.connections.filter((c) => c.leg.label === 'own');
  const checks: Check[] = [
    allAnswered(`${label}: from the balancer`, trusted.connections),
    perConnection(`${label}: each log line names the client from the header (address and port)`, clients, trusted, (c, line) => {
      const client = c.record?.proxyHeader?.client;
      return client !== undefined && sameIp(line.remote, client.address) && line.remotePort === client.port;
    }),
    perConnection(`${label}: the balancer's own connection (${version === 1 ? 'PROXY UNKNOWN' : 'LOCAL'}) is logged as the balancer`, ownConnection, trusted, (_, line) =>
      sameIp(line.remote, BALANCER),
    ),
  ];
  // nginx 1.22 has no variable for a TLV (1.23.2 added $proxy_protocol_tlv_*): there the check is that it stepped over them to the right client.
  if (version === 2 && backend.kind === 'haproxy') {
    checks.push(
      perConnection(`${label}: the TLVs reached the backend (PP2_TYPE_AUTHORITY, PP2_TYPE_UNIQUE_ID)`, clients, trusted, (c, line) => {
        const client = c.record?.proxyHeader?.client;
        return client !== undefined && line.authority === AUTHORITY && line.uniqueIdHex === Buffer.from(uniqueId(client)).toString('hex');
      }),
    );
  }
  checks.push(spoofNotBelieved(label, spoof));
  if (backend.deniedConnections) {
    const denied = deniedBefore === undefined || deniedAfter === undefined ? undefined : deniedAfter - deniedBefore;
    checks.push(
      check(
        `${label}: HAProxy rejected the spoofer's connections before reading their header (show stat: dcon)`,
        denied !== undefined && denied >= SPOOF_CONNECTIONS,
        `dcon +${SPOOF_CONNECTIONS} or more`,
        denied === undefined ? 'no dcon counter in show stat' : `dcon ${deniedBefore} → ${deniedAfter} (+${denied})`,
      ),
    );
  }
  checks.push(...brokenRefused(label, refused));
  return checks;
}

function allAnswered(label: string, connections: readonly ProxyConnection[]): Check {
  const failed = connections.filter((c) => !answered(c));
  return check(
    `${label}: every request answered 200`,
    failed.length === 0,
    `${connections.length} × 200`,
    failed.length === 0 ? `${connections.length} × 200` : `${failed.length} failed: ${failed.map((c) => `conn=${c.tag} ${describeResult(c.result)}`).join('; ')}`,
  );
}

/** Every connection has its log line, and the line passes `ok`. */
function perConnection(
  label: string,
  connections: readonly ProxyConnection[],
  round: ProxyRound,
  ok: (connection: ProxyConnection, line: ProxyRequestLine) => boolean,
): Check {
  const good = connections.filter((c) => c.line !== undefined && ok(c, c.line));
  const header = (c: ProxyConnection): string => {
    const h = c.record?.proxyHeader;
    return h ? `header ${h.form} ${h.client.address}:${h.client.port}` : 'no balancer record';
  };
  return check(
    label,
    connections.length > 0 && good.length === connections.length,
    `${connections.length} of ${connections.length}`,
    `${good.length} of ${connections.length}`,
    [...connections.map((c) => `conn=${c.tag} (${header(c)}): ${c.line?.raw ?? 'no log line'}`), ...refusalLines(round)].join('\n'),
  );
}

/**
 * The spoofer's header is not believed: each of its requests is refused (no line) or logged
 * as the spoofer itself, and no line anywhere names the forged client.
 */
function spoofNotBelieved(label: string, round: ProxyRound): Check {
  const forged = round.log.requests.filter((line) => sameIp(line.remote, FORGED_CLIENT.address));
  const believedOther = round.connections.filter((c) => c.line !== undefined && !sameIp(c.line.remote, SPOOFER_ADDRESS));
  const refusedCount = round.connections.filter((c) => c.line === undefined).length;
  return check(
    `${label}: a header from ${SPOOFER_ADDRESS} (not ${BALANCER}/32) is not believed`,
    forged.length === 0 && believedOther.length === 0,
    `no line names ${FORGED_CLIENT.address}; each request refused or logged as ${SPOOFER_ADDRESS}`,
    forged.length > 0
      ? `SPOOF BELIEVED: ${forged.length} line(s) name ${FORGED_CLIENT.address}`
      : `${refusedCount} refused, ${round.connections.length - refusedCount - believedOther.length} logged as ${SPOOFER_ADDRESS}` +
          (believedOther.length ? `, ${believedOther.length} logged as someone else` : ''),
    round.log.raw.trim() || '(the backend logged nothing)',
  );
}

/**
 * Broken headers: none gets an answer or a request line — a line would carry an address read
 * from a header the spec says to reject — and the backend says why it refused, once per
 * connection at least.
 */
function brokenRefused(label: string, round: ProxyRound): Check[] {
  const forms = round.connections.map((c) => c.leg.label).join(', ');
  const served = round.connections.filter((c) => answered(c) || c.line !== undefined);
  const evidence = [
    ...round.connections.map((c) => `conn=${c.tag} (${c.leg.label}): client got ${describeResult(c.result)}; ${c.line ? `LOGGED: ${c.line.raw}` : 'no request line'}`),
    ...round.log.requests.filter((l) => l.tag === undefined).map((l) => `untagged line: ${l.raw}`),
    ...refusalLines(round),
  ].join('\n');
  return [
    check(
      `${label}: broken headers (${forms}) are refused: no answer, no request line`,
      served.length === 0 && round.log.requests.length === 0,
      'no answer and no request line for any of them',
      `${served.length} served, ${round.log.requests.length} request line(s)`,
      evidence,
    ),
    check(
      `${label}: the backend logs why it refused each broken header`,
      round.log.refusals.length >= round.connections.length,
      `${round.connections.length} refusal line(s) or more`,
      `${round.log.refusals.length}: ${[...new Set(round.log.refusals.map((r) => r.reason))].join(' | ') || 'none'}`,
      evidence,
    ),
  ];
}

function refusalLines(round: ProxyRound): string[] {
  return round.log.refusals.map((r) => `refusal: ${r.raw}`);
}

function sameIp(logged: string, expected: string): boolean {
  try {
    return normalizeIpAddress(logged) === normalizeIpAddress(expected);
  } catch {
    return false; // `-` or anything else that is not an address
  }
}
