import type { Endpoint } from '../harness/checks/backend-log.ts';
import type { DataPathLab } from '../harness/lab/data-path-lab.ts';
import { BackendServer } from '../harness/guest/backend-server.ts';
import { counterGrowth, readNetCounters, type NetCounters } from '../harness/guest/net-counters.ts';
import { kernelUnhurt, withToaModule } from '../harness/lab/toa-state.ts';
import { balancerEndpoint, injectedEndpoint, runThroughBalancer, sameEndpoint, type TrafficConnection, type TrafficRound } from '../harness/lab/traffic.ts';
import { FastOpenCookieJar, type BalancerFastOpen, type ToaPlacement } from '../harness/net/index.ts';
import { check, finding, type Check, type Scenario } from '../harness/core/scenario.ts';
import { readToaStats } from '../harness/toa/toa-module.ts';
import type { ToaStats } from '../harness/checks/toa-stats.ts';

/**
 * TCP Fast Open (RFC 7413): the backend's socket is created from the SYN. Linux's
 * tcp_conn_request → tcp_try_fastopen → tcp_fastopen_create_child calls syn_recv_sock with the
 * SYN's skb, queues the child (state SYN_RECV, the SYN's data already in its receive queue) on
 * the listener's accept queue and answers SYN-ACK; accept() returns it before the balancer's
 * ACK arrives. The ACK later moves the child SYN_RECV → ESTABLISHED (tcp_rcv_state_process).
 * So under TFO the SYN is the segment that creates the socket, and TOA carried only in the SYN
 * is the one placement that can work — the reverse of a plain handshake, where the socket
 * comes from the ACK and a SYN-only TOA is not honoured (malformed-options; checked here again
 * as the contrast).
 *
 * The guest: `net.ipv4.tcp_fastopen` gets TFO_SERVER_ENABLE (0x2) and TFO_SERVER_WO_SOCKOPT1
 * (0x400: Fast Open on every listener created from then on, without TCP_FASTOPEN on the socket,
 * so toa-backend needs no change), and a second toa-backend is started after it. Two ways in:
 * - cookies (0x402): the balancer's first SYN asks for a cookie (an empty kind-34 option), the
 *   guest's SYN-ACK returns one, and every later SYN carries the cookie and the request;
 * - no cookie (0x602, + TFO_SERVER_COOKIE_NOT_REQD): the request in a SYN without any option.
 * The guest's own TcpExt counters show the sockets really were made from SYNs
 * (TCPFastOpenPassive: one per child created by tcp_fastopen_create_child).
 *
 * What a module makes of each placement is its finding; for toa-lab's own toa.ko the decided
 * behaviour (native/toa/README.md, "TCP Fast Open") is a verdict: a TOA in the SYN that created
 * the socket names the client, at accept() and at getpeername().
 */
const SYSCTL = '/proc/sys/net/ipv4/tcp_fastopen';
// Not 80 (started before the sysctl, so without Fast Open), 8080 (a full OS's nginx), 8081 (defer-accept).
const TFO_PORT = 8082;
const CONNECTIONS = 3;

/** RFC 7413 server bits of net.ipv4.tcp_fastopen (include/net/tcp.h), plus the client bit the guest keeps. */
const TFO_CLIENT_ENABLE = 0x1;
const TFO_SERVER_ENABLE = 0x2;
const TFO_SERVER_COOKIE_NOT_REQD = 0x200;
const TFO_SERVER_WO_SOCKOPT1 = 0x400;
const WITH_COOKIES = TFO_CLIENT_ENABLE | TFO_SERVER_ENABLE | TFO_SERVER_WO_SOCKOPT1;
const WITHOUT_COOKIES = WITH_COOKIES | TFO_SERVER_COOKIE_NOT_REQD;

interface TfoPlacement {
  label: string;
  placement: ToaPlacement[];
  /** The SYN carries TOA: the segment that creates the socket under TFO. */
  inSyn: boolean;
}

/** Under TFO, "first-data" is the SYN itself (it carries the first byte). */
const PLACEMENTS: readonly TfoPlacement[] = [
  { label: 'TOA in the SYN only', placement: ['syn'], inSyn: true },
  { label: 'TOA in the ACK and the first data (the SYN)', placement: ['ack', 'first-data'], inSyn: true },
  { label: 'TOA in the handshake ACK only', placement: ['ack'], inSyn: false },
];

interface Phase {
  label: string;
  sysctl: number;
  fastOpen: BalancerFastOpen['mode'];
}

const PHASES: readonly Phase[] = [
  { label: 'TFO with a cookie', sysctl: WITH_COOKIES, fastOpen: 'cookie' },
  { label: 'TFO without a cookie', sysctl: WITHOUT_COOKIES, fastOpen: 'no-cookie' },
];

type Seen = 'client' | 'balancer' | 'mixed' | 'other' | 'no line';

/** What one connection's log line shows: getpeername() and accept() both the client, both the balancer, one each, or else. */
export function seenAs(connection: TrafficConnection): Seen {
  const line = connection.logLine;
  if (!line) return 'no line';
  const client = injectedEndpoint(connection);
  const balancer = balancerEndpoint(connection);
  const one = (e: Endpoint): Seen => (client && sameEndpoint(e, client) ? 'client' : balancer && sameEndpoint(e, balancer) ? 'balancer' : 'other');
  const [peer, accept] = [one(line.peer), one(line.accept)];
  if (peer === 'other' || accept === 'other') return 'other';
  return peer === accept ? peer : 'mixed';
}

function tally(round: TrafficRound): { counts: Map<Seen, number>; text: string } {
  const counts = new Map<Seen, number>();
  for (const c of round.connections) counts.set(seenAs(c), (counts.get(seenAs(c)) ?? 0) + 1);
  const text = [...counts].map(([seen, n]) => `${n} ${seen === 'mixed' ? 'mixed (getpeername and accept disagree)' : seen}`).join(', ');
  return { counts, text };
}

function lines(round: TrafficRound): string {
  return round.connections
    .map((c) => {
      const tfo = c.record?.fastOpen;
      const syn = tfo ? ` [SYN: ${tfo.syn}, data acknowledged by the SYN-ACK: ${tfo.synDataAccepted ?? '?'}]` : '';
      return `conn=${c.tag} ${seenAs(c)}${syn}: ${c.logLine?.raw ?? 'no log line'}`;
    })
    .join('\n');
}

export const tcpFastOpen: Scenario<DataPathLab> = {
  id: 'tcp-fast-open',
  title: 'TCP Fast Open: the socket is created from the SYN — which TOA placements name the client',
  setup:
    `toa.ko loaded with default parameters; ${SYSCTL} = 0x${WITH_COOKIES.toString(16)} (server on every listener, cookies) and a toa-backend on :${TFO_PORT} ` +
    `started after it, then 0x${WITHOUT_COOKIES.toString(16)} (+ cookie not required); restored afterwards. The lab's toa-backend on :80 (no Fast Open) for the contrast`,
  sends:
    `per way in (a cookie requested once, then cookie + request in each SYN; the request in a SYN without a cookie), ${CONNECTIONS} requests per placement: ` +
    `${PLACEMENTS.map((p) => p.label).join('; ')}; then ${CONNECTIONS} plain handshakes to :80 with TOA in the SYN only`,
  passesWhen:
    "every request is answered; the guest's TcpExt.TCPFastOpenPassive grows by one per Fast Open connection (the socket came from the SYN); " +
    "no log line names anything but the injected client or the balancer; the plain handshakes' SYN-only TOA names the balancer (not honoured, as malformed-options says); " +
    "for toa-lab's own toa.ko, a TOA in the SYN names the client under Fast Open (getpeername and accept); for other modules and the ACK-only placement, what the backend shows is reported as a finding; no oops/BUG/WARN",
  mechanism: 'toa',
  async run(lab) {
    const since = await lab.markKernelLog();
    const checks: Check[] = [await withToaModule(lab, {})];
    const previous = (await lab.guest.check(`cat ${SYSCTL}`)).stdout.trim();
    const others: string[] = [];
    let backend: BackendServer | undefined;
    try {
      await lab.guest.check(`echo ${WITH_COOKIES} > ${SYSCTL}`);
      // TFO_SERVER_WO_SOCKOPT1 applies at listen(): this backend's listener gets a Fast Open queue.
      backend = await BackendServer.start(lab.guest, { port: TFO_PORT });
      const cookies = new FastOpenCookieJar();
      const before = await readNetCounters(lab.guest);
      const statsBefore = lab.ownModule ? await readToaStats(lab.guest) : undefined;
      let fastOpenConnections = 0;
      let cookieRequests = 0;
      for (const phase of PHASES) {
        await lab.guest.check(`echo ${phase.sysctl} > ${SYSCTL}`);
        if (phase.fastOpen === 'cookie') {
          // The cookie request: an ordinary handshake whose SYN-ACK carries the guest's cookie.
          const warmUp = await runThroughBalancer(lab, { toa: false, connections: 1, backend, fastOpen: { mode: 'cookie', cookies } });
          cookieRequests++;
          checks.push(
            check(
              `${phase.label}: the guest returns a cookie for the balancer's cookie request`,
              cookies.size === 1 && warmUp.connections[0]?.record?.fastOpen?.syn === 'cookie-request',
              'a kind-34 cookie in the SYN-ACK',
              cookies.size === 1 ? 'cookie received' : 'no cookie in the SYN-ACK',
              lines(warmUp),
            ),
          );
          if (cookies.size === 0) continue;
        }
        for (const variant of PLACEMENTS) {
          const label = `${phase.label}, ${variant.label}`;
          const round = await runThroughBalancer(lab, {
            toa: { kind: lab.toaKind, placement: variant.placement },
            connections: CONNECTIONS,
            backend,
            fastOpen: { mode: phase.fastOpen, cookies },
          });
          fastOpenConnections += CONNECTIONS;
          checks.push(round.allAnswered(label), ...placementVerdicts(lab, label, variant, round, others));
        }
      }
      const after = await readNetCounters(lab.guest);
      checks.push(createdFromSyn(before, after, fastOpenConnections, cookieRequests));
      if (statsBefore) checks.push(moduleCounters(statsBefore, await readToaStats(lab.guest), fastOpenConnections));
    } finally {
      await backend?.stop();
      await lab.guest.check(`echo ${previous || 1} > ${SYSCTL}`);
    }

    // The contrast: a plain handshake (no Fast Open on :80), TOA in the SYN only — the socket comes from the ACK.
    const plain = await runThroughBalancer(lab, { toa: { kind: lab.toaKind, placement: ['syn'] }, connections: CONNECTIONS });
    checks.push(
      plain.allAnswered('plain handshake, TOA in the SYN only'),
      plain.eachConnectionSaw('plain handshake, TOA in the SYN only: not honoured (the socket comes from the ACK)', balancerEndpoint),
      check(
        'under Fast Open, no log line names anything but the injected client or the balancer',
        others.length === 0,
        'the client or the balancer, getpeername and accept alike or one each',
        others.length === 0 ? 'none other' : `${others.length} other`,
        others.join('\n') || undefined,
      ),
      await kernelUnhurt(lab, since),
    );
    return checks;
  },
};

/**
 * One placement's outcome. For toa-lab's own toa.ko a TOA in the SYN must name the client (its
 * decided behaviour); everything else is a finding. Any address other than the client's or the
 * balancer's is collected into `others` (a failure whoever wrote the module).
 */
function placementVerdicts(lab: DataPathLab, label: string, variant: TfoPlacement, round: TrafficRound, others: string[]): Check[] {
  const { counts, text } = tally(round);
  for (const c of round.connections) if (seenAs(c) === 'other') others.push(`${label}: conn=${c.tag}: ${c.logLine?.raw}`);
  const allClient = counts.get('client') === round.connections.length;
  const observed = `${text}${allClient ? ': honoured' : counts.get('balancer') === round.connections.length ? ': not honoured (the balancer)' : ''}`;
  if (lab.ownModule && variant.inSyn) {
    const verdict = round.eachConnectionSaw(`${label}: toa.ko takes TOA from the SYN that created the socket`, injectedEndpoint);
    return [{ ...verdict, observed: `${verdict.observed} — ${text}`, evidence: lines(round) }];
  }
  return [finding(`${label}: what the backend sees`, true, 'the injected client, or the balancer', observed, lines(round))];
}

/** The guest's own evidence that the sockets came from SYNs (tcp_try_fastopen's MIB counters). */
function createdFromSyn(before: NetCounters, after: NetCounters, fastOpenConnections: number, cookieRequests: number): Check {
  const passive = counterGrowth(before, after, 'TcpExt.TCPFastOpenPassive');
  const failed = counterGrowth(before, after, 'TcpExt.TCPFastOpenPassiveFail');
  const requested = counterGrowth(before, after, 'TcpExt.TCPFastOpenCookieReqd');
  const overflow = counterGrowth(before, after, 'TcpExt.TCPFastOpenListenOverflow');
  return check(
    "every Fast Open connection's socket was created from its SYN (the guest's TcpExt counters)",
    passive >= fastOpenConnections && requested >= cookieRequests,
    `TCPFastOpenPassive +${fastOpenConnections}, TCPFastOpenCookieReqd +${cookieRequests}`,
    `TCPFastOpenPassive +${passive}, TCPFastOpenPassiveFail +${failed}, TCPFastOpenCookieReqd +${requested}, TCPFastOpenListenOverflow +${overflow}`,
  );
}

/** toa.ko's own account of the Fast Open children (native/toa/README.md, /proc/net/toa_stats): shown, not judged. */
function moduleCounters(before: ToaStats, after: ToaStats, fastOpenConnections: number): Check {
  const names = ['fast_open_child', 'syn_recv_sock_toa', 'syn_recv_sock_no_toa', 'getname_toa_ok', 'getname_toa_empty', 'child_no_segment'];
  const growth = names.map((name) => `${name} +${(after[name] ?? 0) - (before[name] ?? 0)}`).join(', ');
  return finding(
    "toa.ko's counters over the Fast Open connections",
    true,
    `fast_open_child +${fastOpenConnections} (one per child recorded from its SYN)`,
    'fast_open_child' in after ? growth : `${growth} (no fast_open_child: a toa.ko before 1.2)`,
  );
}
