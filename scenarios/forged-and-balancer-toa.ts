import type { Endpoint } from '../harness/checks/backend-log.ts';
import type { DataPathLab } from '../harness/lab/data-path-lab.ts';
import { kernelUnhurt, withToaModule } from '../harness/lab/toa-state.ts';
import { balancerEndpoint, injectedEndpoint, runThroughBalancer, sameEndpoint, type TrafficConnection, type TrafficRound } from '../harness/lab/traffic.ts';
import { toaTcpOption, type SimulatedClient, type ToaPosition } from '../harness/net/index.ts';
import { check, finding, type Check, type Scenario } from '../harness/core/scenario.ts';
import { readToaStats } from '../harness/toa/toa-module.ts';

/** What the client writes into its own TOA: an address of its choosing. */
export const FORGED_CLIENT: SimulatedClient = { address: '203.0.113.250', port: 4444 };
const CONNECTIONS = 3;

interface Case {
  label: string;
  position: ToaPosition;
  /** The client's own TOA names FORGED_CLIENT; otherwise the same client the balancer names (balancers in series). */
  forged: boolean;
}

/**
 * A FULLNAT balancer forwards the client's TCP options (LVS, DPVS: addresses and ports are
 * rewritten, options kept), so a client can send a TOA of its own and the segment that creates
 * the backend's socket carries two: the client's and the balancer's. Which one a module takes
 * depends on where the balancer writes its own (harness/net/balancer/toa-room.ts) and on the
 * module's rule. toa-lab's toa.ko (1.3) uses neither when they differ (native/toa/README.md,
 * "Two TOA options in one segment"); for any module, the backend must never log an address that
 * neither the client nor the balancer sent, and a forged address winning is a security finding.
 */
export const CASES: readonly Case[] = [
  { label: "the balancer's TOA in front of the client's (LVS, DPVS)", position: 'front', forged: true },
  { label: "the balancer's TOA after the client's (a balancer that appends)", position: 'after-client-options', forged: true },
  { label: 'both name the same client (balancers in series)', position: 'after-client-options', forged: false },
];

export type Honoured = 'balancer-toa' | 'forged-toa' | 'neither (the balancer)' | 'mixed' | 'other' | 'no line';

/**
 * Whose address one connection's log line shows; `mixed` when getpeername and accept name two of
 * those (a module rewriting one and not the other), `other` when either names anyone else.
 */
export function honoured(connection: TrafficConnection): Honoured {
  const line = connection.logLine;
  if (!line) return 'no line';
  const client = injectedEndpoint(connection);
  const balancer = balancerEndpoint(connection);
  const whose = (e: Endpoint): Honoured =>
    client && sameEndpoint(e, client)
      ? 'balancer-toa'
      : sameEndpoint(e, { ip: FORGED_CLIENT.address, port: FORGED_CLIENT.port })
        ? 'forged-toa'
        : balancer && sameEndpoint(e, balancer)
          ? 'neither (the balancer)'
          : 'other';
  const [peer, accept] = [whose(line.peer), whose(line.accept)];
  if (peer === 'other' || accept === 'other') return 'other';
  return peer === accept ? peer : 'mixed';
}

function tally(round: TrafficRound): Map<Honoured, number> {
  const counts = new Map<Honoured, number>();
  for (const c of round.connections) counts.set(honoured(c), (counts.get(honoured(c)) ?? 0) + 1);
  return counts;
}

const describeTally = (counts: Map<Honoured, number>): string => [...counts].map(([who, n]) => `${n} ${who}`).join(', ');
const lines = (round: TrafficRound): string => round.connections.map((c) => `conn=${c.tag} ${honoured(c)}: ${c.logLine?.raw ?? 'no log line'}`).join('\n');

export const forgedAndBalancerToa: Scenario<DataPathLab> = {
  id: 'forged-and-balancer-toa',
  title: "A client's forged TOA next to the balancer's in one segment: which wins, never a third address",
  setup: 'toa.ko loaded with default parameters; toa-backend on :80',
  sends:
    `${CONNECTIONS} connections per case, the handshake ACK and first data carrying the client's own TOA (forwarded by the balancer) and the balancer's: ` +
    `${CASES.map((c) => `${c.label}${c.forged ? ` (the client's names ${FORGED_CLIENT.address}:${FORGED_CLIENT.port})` : ''}`).join('; ')}`,
  passesWhen:
    "every request is answered; no log line names anything but the balancer's client, the forged address or the balancer; " +
    "for toa-lab's own toa.ko: two TOAs naming different clients are both refused (the backend logs the balancer; toa_stats' toa_conflict counts them), " +
    'the same client twice is honoured; for other modules, which one wins is reported (the forged one winning is a security finding); no oops/BUG/WARN',
  mechanism: 'toa',
  async run(lab) {
    const since = await lab.markKernelLog();
    const checks: Check[] = [await withToaModule(lab, {})];
    const statsBefore = lab.ownModule ? await readToaStats(lab.guest) : undefined;
    let conflicting = 0;
    for (const one of CASES) {
      const round = await runThroughBalancer(lab, {
        toa: {
          kind: lab.toaKind,
          placement: ['ack', 'first-data'],
          position: one.position,
          clientOptions: (client) => [toaTcpOption({ ...(one.forged ? FORGED_CLIENT : client), kind: lab.toaKind })],
        },
        connections: CONNECTIONS,
      });
      if (one.forged) conflicting += CONNECTIONS;
      checks.push(round.allAnswered(one.label), ...caseVerdicts(lab, one, round));
    }
    if (statsBefore) {
      const after = await readToaStats(lab.guest);
      const grew = (after.toa_conflict ?? 0) - (statsBefore.toa_conflict ?? 0);
      checks.push(
        check(
          "toa_stats counts the segments whose TOAs name different clients (toa_conflict)",
          'toa_conflict' in after && grew >= conflicting,
          `toa_conflict +${conflicting} or more`,
          'toa_conflict' in after ? `toa_conflict +${grew}` : 'no toa_conflict counter (a toa.ko before 1.3)',
        ),
      );
    }
    checks.push(await kernelUnhurt(lab, since));
    return checks;
  },
};

function caseVerdicts(lab: DataPathLab, one: Case, round: TrafficRound): Check[] {
  const counts = tally(round);
  const others = (counts.get('other') ?? 0) + (counts.get('no line') ?? 0);
  const neverThird = check(
    `${one.label}: the backend logs the balancer's client, the client's own claim or the balancer, nothing else`,
    others === 0,
    one.forged ? 'each line one of those three' : "each line the balancer's client or the balancer",
    describeTally(counts),
    lines(round),
  );
  if (lab.ownModule) {
    const expected = one.forged ? balancerEndpoint : injectedEndpoint;
    const label = one.forged ? `${one.label}: toa.ko refuses TOAs naming different clients` : `${one.label}: toa.ko honours the client named twice`;
    return [neverThird, round.eachConnectionSaw(label, expected)];
  }
  const forgedEndpoint = { ip: FORGED_CLIENT.address, port: FORGED_CLIENT.port };
  // getpeername or accept: either naming the forged address is the forged TOA winning.
  const forgedWins = round.connections.filter((c) => c.logLine && [c.logLine.peer, c.logLine.accept].some((e) => sameEndpoint(e, forgedEndpoint))).length;
  return [
    neverThird,
    finding(
      `${one.label}: which TOA the module honours`,
      forgedWins === 0,
      "the balancer's, or neither",
      forgedWins ? `THE CLIENT'S FORGED TOA WINS (${forgedWins} of ${round.connections.length}) — ${describeTally(counts)}` : describeTally(counts),
      lines(round),
    ),
  ];
}
