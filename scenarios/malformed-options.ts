import type { Endpoint } from '../harness/checks/backend-log.ts';
import { formatEndpoint } from '../harness/checks/backend-log.ts';
import type { DataPathLab } from '../harness/lab/data-path-lab.ts';
import { kernelUnhurt, withToaModule } from '../harness/lab/toa-state.ts';
import { balancerEndpoint, sameEndpoint, runThroughBalancer } from '../harness/lab/traffic.ts';
import { backendSawNoRequest, whenGuestRefusesConnection, type RefusalEvidence } from '../harness/lab/refused-handshake.ts';
import { kindOutside, type SimulatedClient, type ToaPlacement } from '../harness/net/index.ts';
import { check, type Check, type Scenario } from '../harness/core/scenario.ts';
import { atLeast, parseKernelRelease, type KernelVersion } from '../harness/kernels/kernel-version.ts';

/**
 * Hostile option bytes in the balancer's segments. A module may honour a
 * well-formed TOA or ignore the lot, but must never report anything else,
 * never crash, never WARN. Each shape says what a correct reader would take
 * from it (`honoured`), or null when nothing in it is a valid IPv4 TOA.
 */
interface Shape {
  name: string;
  /** `kind`: what the balancer sends; `accepted`: the kinds the module under test declares (harness/toa/module-spec.ts). */
  bytes: (client: SimulatedClient, kind: number, accepted?: readonly number[]) => number[];
  honoured: (client: SimulatedClient) => Endpoint | null;
  placement?: ToaPlacement[];
  /**
   * From this kernel version on, Linux itself drops the segments carrying this
   * shape (an option whose length runs past the TCP header, or length 0): the
   * handshake's ACK never completes the connection, with or without toa.ko, so
   * the backend logs nothing. Measured: 6.1.192 and 6.12 accept these segments;
   * 7.2.13 (sid) drops them without toa.ko loaded (SYN-ACK retransmitted, no
   * accept) — a kernel change, not the module's doing.
   */
  kernelDropsSince?: Pick<KernelVersion, 'major' | 'minor'>;
}

/** See Shape.kernelDropsSince. */
const DROPPED_SINCE_7_2 = { major: 7, minor: 2 };

const NOP = 1;
const EOL = 0;
const OTHER = { address: '203.0.113.77', port: 7777 };

const toa = (client: SimulatedClient, kind: number): number[] => [
  kind, 8, client.port >> 8, client.port & 0xff, ...client.address.split('.').map(Number),
];
const honest = (client: SimulatedClient): Endpoint => ({ ip: client.address, port: client.port });
const none = (): null => null;

export const SHAPES: readonly Shape[] = [
  { name: 'length 0', bytes: (_c, k) => [k, 0], honoured: none },
  { name: 'length 1', bytes: (_c, k) => [k, 1], honoured: none },
  { name: 'length 2 (no payload)', bytes: (_c, k) => [k, 2, NOP, NOP], honoured: none },
  { name: 'length 7 (one address byte short)', bytes: (c, k) => [...toa(c, k).slice(0, 7)].map((b, i) => (i === 1 ? 7 : b)), honoured: none },
  { name: 'length 9 (one byte too many)', bytes: (c, k) => [k, 9, ...toa(c, k).slice(2), 0x42], honoured: none },
  { name: 'length 255 (runs past the header)', bytes: (c, k) => [k, 255, ...toa(c, k).slice(2)], honoured: none, kernelDropsSince: DROPPED_SINCE_7_2 },
  { name: 'truncated at the end of the header', bytes: (c, k) => [NOP, NOP, ...toa(c, k).slice(0, 6)], honoured: none, kernelDropsSince: DROPPED_SINCE_7_2 },
  // A reader may take the first (the guides' modules) or neither (toa.ko ≥ 1.3: forged-and-balancer-toa says why).
  { name: 'two TOA options naming different clients (the first, or neither)', bytes: (c, k) => [...toa(c, k), ...toa(OTHER, k)], honoured: honest },
  { name: 'TOA after EOL', bytes: (c, k) => [EOL, EOL, EOL, EOL, ...toa(c, k)], honoured: none },
  { name: 'TOA in the SYN only', bytes: (c, k) => toa(c, k), honoured: none, placement: ['syn'] },
  { name: 'options area full (32 NOP + TOA = 40 bytes)', bytes: (c, k) => [...Array(32).fill(NOP), ...toa(c, k)], honoured: honest },
  { name: 'one NOP before TOA', bytes: (c, k) => [NOP, ...toa(c, k), NOP, NOP, NOP], honoured: honest },
  { name: 'three NOPs before TOA', bytes: (c, k) => [NOP, NOP, NOP, ...toa(c, k), NOP], honoured: honest },
  { name: 'TOA then NOPs and EOL', bytes: (c, k) => [...toa(c, k), NOP, NOP, NOP, EOL], honoured: honest },
  {
    name: 'kind 254 as TCP Fast Open experimental (magic 0xF989, 8-byte cookie)',
    bytes: (_c, k) => [k, 12, 0xf9, 0x89, 1, 2, 3, 4, 5, 6, 7, 8],
    honoured: none,
  },
  {
    // RFC 7413's experimental form (kind 254, magic 0xF989) with a 4-byte cookie is length 8, byte
    // for byte a TOA from client port 63881 (0xF989) and address 192.0.2.99 (the cookie): only its
    // place, a SYN, tells them apart. A reader that takes it reports 192.0.2.99:63881.
    name: 'RFC 7413 experimental TFO cookie in the SYN (254/8, magic 0xF989: reads as port 63881)',
    bytes: () => [254, 8, 0xf9, 0x89, 192, 0, 2, 99],
    honoured: none,
    placement: ['syn'],
  },
  { name: 'IPv6-length TOA (20) on an IPv4 socket', bytes: (c, k) => [k, 20, c.port >> 8, c.port & 0xff, ...Array(16).fill(0x20)], honoured: none },
  // Judged against the module's declared kinds: a module that accepts 200, 253 and 254 by design
  // is probed with a kind it does not claim (harness/net/balancer/balancer-profiles.ts).
  // (Without declared kinds, the module is taken to accept the kind the balancer sends. Kind 0 —
  // EOL, after which nothing is an option — only if every kind 2–255 were claimed.)
  { name: 'a kind the module was not told to accept', bytes: (c, k, accepted = [k]) => toa(c, kindOutside(accepted) ?? 0), honoured: none },
  { name: 'unknown option with length 0 before TOA', bytes: (c, k) => [99, 0, ...toa(c, k)], honoured: none, kernelDropsSince: DROPPED_SINCE_7_2 },
  { name: 'unknown option running over TOA', bytes: (c, k) => [99, 10, ...toa(c, k)], honoured: none },
  // Linux's own option parser steps over an option by its length whatever its kind says
  // (tcp_parse_options), so the TOA after a 3-byte "MSS" is well-formed and may be honoured.
  { name: 'MSS option with a bad length before TOA', bytes: (c, k) => [2, 3, 0x05, ...toa(c, k), NOP], honoured: honest },
  { name: 'TOA on every segment', bytes: (c, k) => toa(c, k), honoured: honest, placement: ['every'] },
  { name: 'well-formed TOA (control)', bytes: (c, k) => toa(c, k), honoured: honest },
];

export const malformedOptions: Scenario<DataPathLab> = {
  id: 'malformed-options',
  title: `${SHAPES.length} malformed or hostile TCP option shapes: no crash, never a wrong address`,
  setup: 'toa.ko loaded with default parameters; toa-backend listening on :80; option kind as the run says (default 254)',
  sends: `one connection per shape, the shape's bytes in the handshake ACK and first data segment (unless stated): ${SHAPES.map((s) => s.name).join('; ')}`,
  passesWhen:
    "for every shape the backend logs either the balancer's own address or exactly the client a correct TOA reader would take " +
    '(or, for the shapes Linux ≥ 7.2 itself drops, no connection at all, the guest showing it refused them: the handshake held in SYN_RECV ' +
    'while it resends its SYN-ACK, or taken with not one request byte in toa-backend\'s line); ' +
    'the guest keeps answering; no oops/BUG/WARN',
  mechanism: 'toa',
  async run(lab) {
    const since = await lab.markKernelLog();
    // The guest's own kernel decides which shapes it drops before any module sees them.
    const kernel = parseKernelRelease((await lab.guest.run('uname -r')).stdout);
    const checks: Check[] = [await withToaModule(lab, {})];
    const verdicts: string[] = [];
    let wrong = 0;
    for (const shape of SHAPES) {
      // A connection the guest's TCP refuses is decided on the guest's own evidence (its
      // /proc/net/tcp row, then toa-backend's line), not by waiting ~33 s for the balancer
      // to give up on it (harness/lab/refused-handshake.ts).
      const refused: RefusalEvidence = {};
      const traffic = await runThroughBalancer(lab, {
        giveUpWhen: whenGuestRefusesConnection(lab, refused),
        toa: {
          kind: lab.toaKind,
          placement: shape.placement ?? ['ack', 'first-data'],
          rawOption: (c) => Uint8Array.from(shape.bytes(c, lab.toaKind, lab.moduleKinds)),
        },
        connections: 1,
      });
      const [connection] = traffic.connections;
      const seen = connection?.logLine?.peer;
      const client = connection?.record?.injectedClient;
      const fallback = connection && balancerEndpoint(connection);
      const allowed = [fallback, client ? shape.honoured(client) : null].filter((e): e is Endpoint => !!e);
      const kernelDrops = !!shape.kernelDropsSince && atLeast(kernel, shape.kernelDropsSince.major, shape.kernelDropsSince.minor);
      // No log line passes only where this kernel is known to drop the shape and the guest
      // shows it refused it: the handshake held in SYN_RECV, or accepted with no request byte.
      const unserved = !seen && refused.row?.state === 'ESTABLISHED' && refused.connection ? await backendSawNoRequest(lab, refused.connection) : undefined;
      const guestRefused = refused.row?.state === 'SYN_RECV' || !!unserved;
      const ok = seen ? allowed.some((e) => sameEndpoint(e, seen)) : kernelDrops && guestRefused;
      if (!ok) wrong++;
      const refusal = !refused.row
        ? ''
        : refused.row.state === 'SYN_RECV'
          ? `; guest held it in SYN_RECV, SYN-ACK resent ${refused.row.retransmits}×: ${refused.row.row}`
          : `; guest took the handshake but not one request byte: ${refused.row.row}; toa-backend: ${unserved?.raw ?? 'no line with method - and 0 request bytes'}`;
      verdicts.push(
        `${ok ? 'ok  ' : 'BAD '} ${shape.name}: seen ${seen ? formatEndpoint(seen) : 'no log line'}` +
          (seen && fallback && sameEndpoint(seen, fallback) ? ' (balancer: ignored)' : seen ? ' (honoured)' : kernelDrops ? ` (dropped by Linux ${kernel.major}.${kernel.minor} itself)` : '') +
          refusal,
      );
    }
    const alive = await lab.guest.run('echo alive');
    checks.push(
      check(
        'every shape: the balancer or exactly the honest client, never anything else',
        wrong === 0,
        `${SHAPES.length} of ${SHAPES.length} acceptable`,
        `${SHAPES.length - wrong} of ${SHAPES.length} acceptable`,
        verdicts.join('\n'),
      ),
      check('the guest is alive', alive.stdout.trim() === 'alive', 'the agent answers', alive.stdout.trim() || `exit ${alive.exitCode}`),
      await kernelUnhurt(lab, since),
    );
    return checks;
  },
};
