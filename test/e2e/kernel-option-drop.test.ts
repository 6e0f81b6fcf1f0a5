import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { atLeast, parseKernelRelease } from '../../harness/kernels/kernel-version.ts';
import type { KernelSpec } from '../../harness/kernels/kernel-spec.ts';
import { MicroLab } from '../../harness/lab/micro-lab.ts';
import { backendSawNoRequest, whenGuestRefusesConnection, type RefusalEvidence } from '../../harness/lab/refused-handshake.ts';
import { withoutToaModule } from '../../harness/lab/toa-state.ts';
import { balancerEndpoint, runThroughBalancer, sameEndpoint } from '../../harness/lab/traffic.ts';
import { RunSession } from '../../harness/lifecycle/run-session.ts';
import { SHAPES } from '../../scenarios/malformed-options.ts';

/**
 * The kernel change malformed-options relies on, shown without toa.ko: from
 * Linux 7.2 the kernel itself drops segments whose options run past the TCP
 * header or hold a length-0 option (no request ever reaches the backend: the
 * handshake stays in SYN_RECV, or completes on the balancer's option-less FIN
 * with not one request byte); 6.12 still accepts them and the backend sees the balancer. If a
 * kernel stops (or starts) dropping them, this fails, and the scenario's
 * `kernelDropsSince` must be changed with it.
 */
const DROPPED = SHAPES.filter((s) => s.kernelDropsSince);
const KERNELS: Array<{ label: string; target: { suite: 'trixie' } | { kernel: KernelSpec } }> = [
  { label: 'trixie 6.12', target: { suite: 'trixie' } },
  { label: 'trixie-backports 7.2', target: { kernel: { suite: 'trixie-backports', flavour: 'generic', version: '7.2' } } },
];

describe.each(KERNELS)('option shapes Linux drops by itself, toa.ko unloaded ($label)', ({ label, target }) => {
  let session: RunSession;
  let lab: MicroLab;

  beforeAll(async () => {
    session = await RunSession.open();
    lab = await MicroLab.start(session, { ...target, log: (line) => console.log(`${label}: ${line}`) });
  });

  afterAll(async () => {
    await session?.close();
  });

  it('three shapes are marked as dropped by the kernel', () => {
    expect(DROPPED.map((s) => s.name)).toEqual([
      'length 255 (runs past the header)',
      'truncated at the end of the header',
      'unknown option with length 0 before TOA',
    ]);
  });

  for (const shape of DROPPED) {
    it(`${shape.name}: dropped exactly when the kernel is at least the version the scenario names`, { timeout: 300_000 }, async () => {
      expect((await withoutToaModule(lab)).passed).toBe(true);
      const kernel = parseKernelRelease((await lab.guest.run('uname -r')).stdout);
      // Decided on the guest's own evidence of the refusal in ~4 s, not the balancer's ~33 s give-up.
      const refused: RefusalEvidence = {};
      const traffic = await runThroughBalancer(lab, {
        toa: { kind: lab.toaKind, placement: shape.placement ?? ['ack', 'first-data'], rawOption: (c) => Uint8Array.from(shape.bytes(c, lab.toaKind)) },
        connections: 1,
        giveUpWhen: whenGuestRefusesConnection(lab, refused),
      });
      const [connection] = traffic.connections;
      const drops = atLeast(kernel, shape.kernelDropsSince!.major, shape.kernelDropsSince!.minor);
      if (drops) {
        expect(connection?.logLine, `Linux ${kernel.major}.${kernel.minor} logged a connection it should have dropped`).toBeUndefined();
        const unserved = refused.row?.state === 'ESTABLISHED' && refused.connection ? await backendSawNoRequest(lab, refused.connection) : undefined;
        expect(refused.row?.state === 'SYN_RECV' || !!unserved, `the guest's evidence of the refusal: ${refused.row?.row ?? 'no row'}`).toBe(true);
      } else {
        const fallback = connection && balancerEndpoint(connection);
        expect(connection?.logLine && fallback && sameEndpoint(connection.logLine.peer, fallback), `Linux ${kernel.major}.${kernel.minor}: ${connection?.logLine?.raw ?? 'no log line'}`).toBe(true);
      }
    });
  }
});
