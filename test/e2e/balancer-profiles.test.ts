import { afterAll, describe, expect, it } from 'vitest';
import { removeRunFolders, runToaLab } from '../helpers/toa-lab-run.ts';

afterAll(removeRunFolders);

/**
 * Vendor wire formats end to end, the way a vendor runs them (one micro-VM, Debian 12's 6.1):
 * our toa.ko declared — and so loaded — as a module that accepts 200, 253 and 254 by design
 * (UCloud's set), the balancer sending UCloud's profile. Every profile goes through; the backend
 * log decides what the module made of each. Cost measured: see the report of the branch
 * (~60 s on a shared 2-core host, boot included).
 */
describe('balancer profiles and the module spec (--balancer, --module-kinds)', () => {
  it('reads exactly the length-8/20 forms of its declared kinds; the other vendors are findings, not failures', () => {
    const run = runToaLab(
      ['--image', 'microvm-bookworm', '--scenario', 'balancer-profiles,toa-kind-filter', '--balancer', 'ucloud-v4', '--module-kinds', '200,253,254'],
      { timeoutMs: 600_000 },
    );
    expect(run.code, run.stderr + run.report).toBe(0);
    const profiles = run.outcome('microvm-bookworm', 'balancer-profiles')!;
    const observed = Object.fromEntries(
      profiles.checks.filter((c) => /\(kind \d+, length \d+\)$|balancer profile/.test(c.name)).map((c) => [c.name.split(' ')[0], c.observed.split(':')[0]]),
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
    const configured = profiles.checks.find((c) => c.name.startsWith('ucloud-v4 '))!;
    expect(configured.informational).toBeUndefined(); // the one profile that decides the verdict
    // toa-kind-filter probes with a kind outside the declared three: 250, not 200.
    const filter = run.outcome('microvm-bookworm', 'toa-kind-filter')!;
    expect(filter.checks.map((c) => c.name).join('\n')).toContain('kind 250 sent, 200,253,254 accepted');
    expect(run.report).toContain("module 'toa-lab' accepting kinds 200, 253, 254; balancer profile ucloud-v4");
  });
});
