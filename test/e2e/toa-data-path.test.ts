import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MicroLab } from '../../harness/lab/micro-lab.ts';
import { withToaModule } from '../../harness/lab/toa-state.ts';
import { RunSession } from '../../harness/lifecycle/run-session.ts';
import type { DebianSuite } from '../../harness/kernels/debian-suite.ts';
import { SCENARIOS } from '../../scenarios/index.ts';
import { DEFAULT_KERNELS } from '../../harness/kernels/default-kernels.ts';
import { formatKernelSpec, type KernelSpec } from '../../harness/kernels/kernel-spec.ts';
import { expectScenarioPassed } from '../helpers/scenario-verdict.ts';

/**
 * The TOA data path end to end against real Debian kernels: every scenario
 * on bookworm's 6.1, the core ones on bullseye's 5.10, trixie's 6.12 and the
 * default lab's newer kernels (trixie-backports 7.2 and 7.3, trixie's cloud
 * flavour: harness/kernels/default-kernels.ts).
 * Scenarios share one micro-VM per kernel and put toa.ko in the state they
 * need; each verdict comes from the guest's own evidence.
 */
// tcp-fast-open (3–6 s a kernel): toa.ko's Fast Open path reads kernel internals (syn_data_acked),
// so it is checked on every kernel, not only 6.1.
// forged-and-balancer-toa, options-area-full, netns-backend: a few seconds each, and what they test (option
// parsing, the kernel's handling of forwarded options, namespaces) changes between kernels.
const CORE = [
  'fullnat-toa-v4',
  'fullnat-no-toa',
  'toa-kind-filter',
  'tcp-fast-open',
  'netns-backend',
  'malformed-options',
  'forged-and-balancer-toa',
  'options-area-full',
  'rmmod-open-connections',
];
const PLAN: Array<{ suite: DebianSuite; spec?: KernelSpec; kernel: string; scenarios: typeof SCENARIOS }> = [
  { suite: 'bookworm', kernel: '6.1', scenarios: SCENARIOS },
  { suite: 'bullseye', kernel: '5.10', scenarios: SCENARIOS.filter((s) => CORE.includes(s.id)) },
  { suite: 'trixie', kernel: '6.12', scenarios: SCENARIOS.filter((s) => CORE.includes(s.id)) },
  ...DEFAULT_KERNELS.map((spec) => ({ suite: spec.suite, spec, kernel: formatKernelSpec(spec), scenarios: SCENARIOS.filter((s) => CORE.includes(s.id)) })),
];

describe.each(PLAN)('TOA data path on the micro-VM ($suite, Debian $kernel kernel)', ({ suite, spec, scenarios }) => {
  let session: RunSession;
  let lab: MicroLab;

  beforeAll(async () => {
    session = await RunSession.open();
    lab = await MicroLab.start(session, { suite, ...(spec && { kernel: spec }), log: (line) => console.log(`${suite}: ${line}`) });
  });

  afterAll(async () => {
    await session?.close();
  });

  for (const scenario of scenarios) {
    it(`${scenario.id}: ${scenario.title}`, async (context) => {
      // The PROXY protocol scenarios need nginx or HAProxy, which busybox does not have; netns-backend asks the guest for veth.
      const skipped = await scenario.notApplicable?.(lab);
      if (skipped !== undefined) return context.skip(skipped);
      expectScenarioPassed(await scenario.run(lab));
    });
  }

  it("keeps the guides' counters in /proc/net/toa_stats", async () => {
    expect((await withToaModule(lab, {})).passed).toBe(true);
    const stats = (await lab.guest.run('cat /proc/net/toa_stats')).stdout;
    for (const name of [
      'syn_recv_sock_toa',
      'syn_recv_sock_no_toa',
      'getname_toa_ok',
      'getname_toa_mismatch',
      'getname_toa_bypass',
      'getname_toa_empty',
    ]) {
      expect(stats).toMatch(new RegExp(`^${name}\\s+\\d+$`, 'm'));
    }
  });
});
