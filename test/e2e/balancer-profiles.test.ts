import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MicroLab } from '../../harness/lab/micro-lab.ts';
import { RunSession } from '../../harness/lifecycle/run-session.ts';
import { balancerProfile } from '../../harness/net/index.ts';
import { balancerProfiles } from '../../scenarios/balancer-profiles.ts';
import { malformedOptions } from '../../scenarios/malformed-options.ts';
import { toaKindFilter } from '../../scenarios/toa-kind-filter.ts';
import { expectScenarioPassed } from '../helpers/scenario-verdict.ts';

/**
 * Vendor wire formats on a real kernel (one micro-VM, Debian 12's 6.1): our toa.ko declared —
 * and so loaded — as a module that accepts 200, 253 and 254 by design (UCloud's set), the
 * balancer sending UCloud's profile. Every profile goes through; the backend's log decides what
 * the module made of each. The flags that build this spec are unit-tested
 * (test/unit/cli/balancer-and-module-flags.test.ts); the default spec (254, lvs-v4) runs in
 * toa-data-path.test.ts with every scenario (+5 s there). Cost of this file, measured on the
 * shared 2-core host at load average ~8: 31 s (boot ~13 s, balancer-profiles 7 s,
 * toa-kind-filter 2 s, malformed-options 7 s).
 */
describe('balancer profiles against a module that accepts 200, 253 and 254', () => {
  let session: RunSession;
  let lab: MicroLab;

  beforeAll(async () => {
    session = await RunSession.open();
    lab = await MicroLab.start(session, { suite: 'bookworm', moduleKinds: [200, 253, 254], balancerProfile: balancerProfile('ucloud-v4') });
  });

  afterAll(async () => {
    await session?.close();
  });

  it('reads exactly the length-8/20 forms of its declared kinds; the other vendors are findings, not failures', async () => {
    const checks = await balancerProfiles.run(lab);
    expectScenarioPassed(checks);
    const observed = Object.fromEntries(
      checks.filter((c) => /\(kind \d+, length \d+\)$|balancer profile/.test(c.name)).map((c) => [c.name.split(' ')[0], c.observed.split(':')[0]]),
    );
    expect(observed).toEqual({
      'lvs-v4': 'read',
      'lvs-v6': 'read',
      'huawei-v6': 'read',
      'ucloud-v4': 'read',
      'ucloud-v4-253': 'read',
      'tencent-v4': 'read',
      'tencent-vpc-id': 'ignored',
      'tencent-vip-vport': 'ignored',
      'alibaba-vtoa-v4': 'ignored',
      'alibaba-vtoa-vpc': 'ignored',
      'alibaba-vtoa-vpc-v6': 'ignored',
      'alibaba-vtoa-v6': 'read',
      'alibaba-cdn-v4': 'ignored',
      'alibaba-cdn-v6': 'ignored',
    });
    expect(checks.find((c) => c.name.startsWith('ucloud-v4 '))!.informational).toBeUndefined(); // the one that decides
  });

  it('toa-kind-filter probes with a kind outside the declared three (250), not with 200', async () => {
    const checks = await toaKindFilter.run(lab);
    expectScenarioPassed(checks);
    expect(checks.map((c) => c.name).join('\n')).toContain('kind 250 sent, 200,253,254 accepted');
  });

  it('malformed-options does not flag the module for honouring a kind it declares', async () => {
    const checks = await malformedOptions.run(lab);
    expectScenarioPassed(checks);
    expect(checks.find((c) => c.name.startsWith('every shape'))!.evidence).toMatch(/^ok {3}a kind the module was not told to accept: seen 192\.0\.2\.2:/m);
  });
});
