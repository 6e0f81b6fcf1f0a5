import type { DataPathLab } from '../harness/lab/data-path-lab.ts';
import { kernelUnhurt, withToaModule } from '../harness/lab/toa-state.ts';
import { balancerEndpoint, injectedEndpoint, runThroughBalancer, sameEndpoint, type TrafficConnection, type TrafficRound } from '../harness/lab/traffic.ts';
import { toaTcpOption, type TcpOption, type ToaWhenFull } from '../harness/net/index.ts';
import { check, finding, type Check, type Scenario } from '../harness/core/scenario.ts';
import { readToaStats } from '../harness/toa/toa-module.ts';
import { FORGED_CLIENT } from './forged-and-balancer-toa.ts';

const CONNECTIONS = 2;
const NOP: TcpOption = { type: 'nop' };
// A timestamp the guest accepts on a connection that never negotiated timestamps: Linux then
// ignores the option (no PAWS state to check it against); TSecr 0 echoes nothing.
const TIMESTAMPS: TcpOption = { type: 'timestamps', value: 1, echoReply: 0 };
const sack = (blocks: number): TcpOption => ({
  type: 'sack',
  blocks: Array.from({ length: blocks }, (_, i) => ({ left: 0x1000 * (i + 1), right: 0x1000 * (i + 1) + 0x200 })),
});

interface Fill {
  label: string;
  /** The client's options on the segments that carry TOA: 40 bytes, no room for 8 more. */
  options: (kind: number) => TcpOption[];
}

/**
 * The client's options fill the 40-byte options area, so the balancer cannot add its 8-byte TOA
 * to the segment. Real ones: LVS skips TOA (counting FULLNAT_ADD_TOA_HEAD_FULL); DPVS clears any
 * TOA the client put there and (today) prunes NOPs and SACK blocks until its TOA fits
 * (harness/net/balancer/toa-room.ts). The simulated balancer does either, and its record says
 * which, per segment. Whatever it did, the backend must see the balancer or the balancer's
 * client — and never the address in a TOA the client padded out to fill the area.
 */
export const FILLS: readonly Fill[] = [
  { label: 'timestamps and three SACK blocks (40 bytes)', options: () => [NOP, NOP, TIMESTAMPS, NOP, NOP, sack(3)] },
  {
    label: `a forged TOA (${FORGED_CLIENT.address}) padded out with timestamps and two SACK blocks (40 bytes)`,
    options: (kind) => [toaTcpOption({ ...FORGED_CLIENT, kind }), NOP, NOP, TIMESTAMPS, NOP, NOP, sack(2)],
  },
];

interface Behaviour {
  whenFull: ToaWhenFull;
  label: string;
  /** What the backend must then show for each connection. */
  expect: 'balancer' | 'client';
}

export const BEHAVIOURS: readonly Behaviour[] = [
  { whenFull: 'skip', label: 'balancer skips TOA (LVS)', expect: 'balancer' },
  { whenFull: 'prune', label: 'balancer prunes NOPs, SACK and the client\'s TOA, then adds its own (DPVS)', expect: 'client' },
];

const describeRecord = (c: TrafficConnection): string => {
  const s = c.record?.toaSegments;
  return s
    ? `TOA added on ${s.added} segment(s), skipped for lack of room on ${s.skippedNoRoom}, client TOA cleared ${s.clientToaCleared}, client options pruned ${s.clientOptionsPruned}`
    : 'no record';
};
const lines = (round: TrafficRound): string =>
  round.connections.map((c) => `conn=${c.tag}: balancer: ${describeRecord(c)}; backend: ${c.logLine?.raw ?? 'no log line'}`).join('\n');

export const optionsAreaFull: Scenario<DataPathLab> = {
  id: 'options-area-full',
  title: "The client's options fill the 40-byte area: the balancer's choice is reported, the backend sees the balancer or its client, never a forged one",
  setup: 'toa.ko loaded with default parameters; toa-backend on :80',
  sends:
    `${CONNECTIONS} connections per fill and balancer behaviour, the fill forwarded on the handshake ACK and first data (where TOA goes): ` +
    `${FILLS.map((f) => f.label).join('; ')}; balancer: ${BEHAVIOURS.map((b) => b.label).join('; ')}`,
  passesWhen:
    "every request is answered; the balancer's record says, per segment, that TOA was skipped for lack of room (skip) or added after pruning (prune); " +
    "when it skipped, every log line names the balancer (for any module: no TOA reached the guest, the client's own cleared); when it pruned, " +
    "toa-lab's toa.ko names the balancer's client (other modules: the client or the balancer, reported); the forged address never appears; " +
    "toa_stats agrees (syn_recv_sock_no_toa for the skipped ones); no oops/BUG/WARN",
  mechanism: 'toa',
  async run(lab) {
    const since = await lab.markKernelLog();
    const checks: Check[] = [await withToaModule(lab, {})];
    const statsBefore = lab.ownModule ? await readToaStats(lab.guest) : undefined;
    let skipped = 0;
    let added = 0;
    for (const behaviour of BEHAVIOURS) {
      for (const fill of FILLS) {
        const label = `${fill.label}, ${behaviour.label}`;
        const round = await runThroughBalancer(lab, {
          toa: { kind: lab.toaKind, placement: ['ack', 'first-data'], clientOptions: fill.options(lab.toaKind), whenFull: behaviour.whenFull },
          connections: CONNECTIONS,
        });
        if (behaviour.expect === 'balancer') skipped += CONNECTIONS;
        else added += CONNECTIONS;
        checks.push(round.allAnswered(label), balancerSaid(label, behaviour, round), ...backendVerdicts(lab, label, behaviour, round));
      }
    }
    if (statsBefore) {
      const after = await readToaStats(lab.guest);
      const grew = (name: string): number => (after[name] ?? 0) - (statsBefore[name] ?? 0);
      checks.push(
        check(
          'toa_stats: the skipped connections were created without TOA, the pruned ones with it',
          grew('syn_recv_sock_no_toa') >= skipped && grew('syn_recv_sock_toa') >= added,
          `syn_recv_sock_no_toa +${skipped}, syn_recv_sock_toa +${added} (or more)`,
          `syn_recv_sock_no_toa +${grew('syn_recv_sock_no_toa')}, syn_recv_sock_toa +${grew('syn_recv_sock_toa')}`,
        ),
      );
    }
    checks.push(await kernelUnhurt(lab, since));
    return checks;
  },
};

/** The balancer's own account (the harness's side: reported, it decides nothing about the guest). */
function balancerSaid(label: string, behaviour: Behaviour, round: TrafficRound): Check {
  const asDesigned = round.connections.every((c) => {
    const s = c.record?.toaSegments;
    return !!s && (behaviour.whenFull === 'skip' ? s.added === 0 && s.skippedNoRoom > 0 : s.added > 0 && s.skippedNoRoom === 0);
  });
  return finding(
    `${label}: what the balancer did (its record)`,
    asDesigned,
    behaviour.whenFull === 'skip' ? 'TOA skipped for lack of room on every segment that was to carry it' : 'TOA added after pruning',
    round.connections.map(describeRecord).join('; '),
  );
}

function backendVerdicts(lab: DataPathLab, label: string, behaviour: Behaviour, round: TrafficRound): Check[] {
  const forged = round.connections.filter((c) =>
    [c.logLine?.peer, c.logLine?.accept].some((e) => e && sameEndpoint(e, { ip: FORGED_CLIENT.address, port: FORGED_CLIENT.port })),
  );
  const neverForged = check(`${label}: the forged address never appears`, forged.length === 0, 'no line names it', `${forged.length} lines name it`, lines(round));
  // Skipped: nothing of the balancer's and nothing of the client's reached the guest, whoever wrote the module.
  if (behaviour.expect === 'balancer') return [neverForged, round.eachConnectionSaw(`${label}: no TOA, the backend sees the balancer`, balancerEndpoint)];
  if (lab.ownModule) return [neverForged, round.eachConnectionSaw(`${label}: toa.ko names the balancer's client`, injectedEndpoint)];
  const client = round.connections.filter((c) => {
    const want = injectedEndpoint(c);
    return want && c.logLine && sameEndpoint(c.logLine.peer, want);
  }).length;
  return [
    neverForged,
    round.eachConnectionSaw(`${label}: the balancer's client or the balancer`, (c) => {
      const want = injectedEndpoint(c);
      return want && c.logLine && sameEndpoint(c.logLine.peer, want) ? want : balancerEndpoint(c);
    }),
    finding(`${label}: what the module made of the pruned segment`, true, "the balancer's client", `${client} of ${round.connections.length} show the client`, lines(round)),
  ];
}
