import type { ProxyRequestLine } from '../harness/checks/proxy-backend-log.ts';
import { check, finding, type Check, type Scenario } from '../harness/core/scenario.ts';
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
      `no broken header is logged with an address from it (refused, or logged as the balancer); a broken header served instead of refused, and a refusal the log gives no reason for, are findings`,
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
    [
      ...connections.map((c) => `conn=${c.tag} (${header(c)}): ${c.line?.raw ?? 'no log line'}`),
      ...refusalLines(round),
      // A missing line: the whole log as read, to tell a line never written from one not parsed.
      ...(good.length === connections.length ? [] : ['the log as read:', round.log.raw.trim() || '(empty)']),
    ].join('\n'),
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
 * Broken headers. The verdict, per header: the backend never logs an address it read from it —
 * it refuses the connection (no request line), or serves it as coming from its real peer, the
 * balancer (nginx does that with a v1 address it cannot parse: realip keeps the peer). A line
 * naming anyone else is an address made up from a header the spec says to reject. Findings,
 * not verdicts: a broken header served rather than refused, and a refusal without a word in the
 * backend's log (nginx says nothing about some).
 */
function brokenRefused(label: string, round: ProxyRound): Check[] {
  const checks: Check[] = [];
  const balancerOf = (c: ProxyConnection): string => c.record?.balancer.address ?? BALANCER;
  for (const c of round.connections) {
    const logged = c.line;
    const madeUp = logged !== undefined && !sameIp(logged.remote, balancerOf(c));
    checks.push(
      check(
        `${label}: broken header '${c.leg.label}': never logged with an address from it`,
        !madeUp,
        `refused, or logged as the balancer ${balancerOf(c)}`,
        logged === undefined
          ? `refused (client got ${describeResult(c.result)}; no request line)`
          : madeUp
            ? `LOGGED AS ${logged.remote}, an address from a header that must be rejected`
            : `served (${describeResult(c.result)}), logged as the balancer: the header was not believed`,
        [logged ? `line: ${logged.raw}` : 'no request line', ...refusalLines(round)].join('\n'),
      ),
    );
  }
  const served = round.connections.filter((c) => answered(c) || c.line !== undefined);
  if (served.length) {
    checks.push(
      finding(
        `${label}: broken headers are refused rather than served`,
        false,
        'every broken header refused',
        `served: ${served.map((c) => c.leg.label).join(', ')}`,
        served.map((c) => `${c.leg.label}: ${c.line?.raw ?? describeResult(c.result)}`).join('\n'),
      ),
    );
  }
  const untagged = round.log.requests.filter((line) => line.tag === undefined);
  checks.push(
    check(
      `${label}: no other request line names anyone but the balancer`,
      untagged.every((line) => sameIp(line.remote, BALANCER)),
      `no line, or only the balancer ${BALANCER}`,
      untagged.length ? untagged.map((line) => line.remote).join(', ') : 'no other line',
      untagged.map((line) => line.raw).join('\n') || undefined,
    ),
  );
  const refused = round.connections.length - served.length;
  if (refused > 0) {
    checks.push(
      finding(
        `${label}: the backend logs why it refused each broken header`,
        round.log.refusals.length >= refused,
        `${refused} refusal line(s) or more`,
        `${round.log.refusals.length}: ${[...new Set(round.log.refusals.map((r) => r.reason))].join(' | ') || 'none'}`,
        refusalLines(round).join('\n') || undefined,
      ),
    );
  }
  return checks;
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
