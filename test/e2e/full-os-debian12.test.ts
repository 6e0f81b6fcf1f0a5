import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatStepTable } from '../../harness/lab/full-os-conformance.ts';
import { FullOsLab } from '../../harness/lab/full-os-lab.ts';
import {
  letVipMethodsCoexist,
  pushToaSource,
  rebootStep,
  runGuideStep,
  verifyModuleAutoloaded,
  verifyVipsPresent,
} from '../../harness/lab/full-os-procedure.ts';
import { FullOsDataPathLab } from '../../harness/lab/full-os-data-path-lab.ts';
import { nginxBackend, pythonBackend, sendThroughBalancer } from '../../harness/lab/full-os-traffic.ts';
import { RunSession } from '../../harness/lifecycle/run-session.ts';
import type { Check } from '../../harness/runner/scenario.ts';
import type { StepResult } from '../../harness/runner/step.ts';
import { renderFullOsGuide, type GuideStep } from '../../harness/toa/install-guide-steps.ts';
import { SCENARIOS } from '../../scenarios/index.ts';

/**
 * The guides' procedure on a real Debian 12 (systemd, sshd, the suite's own
 * kernel and headers), end to end: one boot, one reboot. Every verdict comes
 * from the guest: dpkg, make's output, dmesg, /proc/modules, ip addr, and the
 * backends' own access logs. Then every data-path scenario on the toa.ko the
 * guide installed, on the same boot.
 */
const VIPS = ['192.0.2.100', '192.0.2.101'];
const NETPLAN_VIPS = ['192.0.2.102'];
const TOA_SOURCE = '/root/toa';
const PYTHON_PORT = 80;
const NGINX_PORT = 8080;

describe('full OS: Debian 12 with the guides\' TOA and VIP procedure', () => {
  let session: RunSession;
  let lab: FullOsLab;
  const steps: StepResult[] = [];
  const guide = renderFullOsGuide('debian-12', {
    toaSourceDir: TOA_SOURCE,
    interfacesDVips: VIPS,
    netplanVips: NETPLAN_VIPS,
    pythonPort: PYTHON_PORT,
    nginxPort: NGINX_PORT,
  });
  const setup = (id: GuideStep['id']) => guide.setup.filter((s) => s.id === id);

  async function step(result: Promise<StepResult>): Promise<StepResult> {
    const done = await result;
    steps.push(done);
    return done;
  }

  async function guideSteps(list: readonly GuideStep[]): Promise<void> {
    expect(list.length).toBeGreaterThan(0);
    for (const guideStep of list) {
      const result = await step(runGuideStep(lab, guideStep));
      expect(result.status, evidenceOf(result)).toBe('passed');
    }
  }

  beforeAll(async () => {
    session = await RunSession.open();
    lab = await FullOsLab.start(session, { image: 'debian-12', log: (line) => console.log(line) });
  });

  afterAll(async () => {
    console.log(formatStepTable(steps));
    await session?.close();
  });

  it('has gcc, make and the exact linux-headers-$(uname -r) (verified, offline)', async () => {
    await guideSteps(setup('toolchain'));
    // dpkg's own record: the headers of exactly the running kernel.
    const headers = await lab.guest.check(`dpkg-query -W -f='\${Status} \${Package}' linux-headers-$(uname -r)`);
    expect(headers.stdout).toBe(`install ok installed linux-headers-${lab.image.kernelRelease}`);
  });

  it('builds toa.ko in the guest and loads it (dmesg: TOA: toa loaded)', async () => {
    const push = await step(pushToaSource(lab, TOA_SOURCE));
    expect(push.status, evidenceOf(push)).toBe('passed');
    await guideSteps([...setup('toa-build'), ...setup('toa-load')]);
  });

  it('sets up autoload and the VIPs (ifupdown lo:1, lo:2; netplan lo)', async () => {
    const [interfacesD, netplan] = setup('vip');
    await guideSteps([...setup('autoload'), interfacesD!]);
    const coexist = await step(letVipMethodsCoexist(lab));
    expect(coexist.status, evidenceOf(coexist)).toBe('passed');
    await guideSteps([netplan!]);
  });

  it('after a reboot, toa is loaded again and every VIP is back on lo', async () => {
    const reboot = await step(rebootStep(lab));
    expect(reboot.status, evidenceOf(reboot)).toBe('passed');
    for (const verify of [verifyModuleAutoloaded(lab), verifyVipsPresent(lab, [...VIPS, ...NETPLAN_VIPS])]) {
      const result = await step(verify);
      expect(result.status, evidenceOf(result)).toBe('passed');
    }
  });

  it("the backends' access logs show the simulated clients (toa.ko loaded) and the balancer (unloaded)", async () => {
    await guideSteps(guide.backends);
    const checks: Check[] = [];
    for (const backend of [pythonBackend(PYTHON_PORT), nginxBackend(NGINX_PORT)]) {
      const round = await sendThroughBalancer(lab, backend, { connections: 4, toa: {}, expect: 'simulated-clients' });
      console.log(`${backend.label} with toa.ko:\n${round.log.map((r) => r.raw).join('\n')}`);
      checks.push(...round.checks);
    }
    await lab.guest.check('rmmod toa');
    for (const backend of [pythonBackend(PYTHON_PORT), nginxBackend(NGINX_PORT)]) {
      const round = await sendThroughBalancer(lab, backend, { connections: 2, toa: {}, expect: 'balancer' });
      console.log(`${backend.label} without toa.ko:\n${round.log.map((r) => r.raw).join('\n')}`);
      checks.push(...round.checks);
    }
    expect(checks.filter((c) => !c.passed)).toEqual([]);
    expect(checks).toHaveLength(8);
  });

  describe('the data-path scenarios on the installed toa.ko', () => {
    let dataPath: FullOsDataPathLab;

    it('builds toa-backend with the guest\'s gcc and finds toa.ko where the guide installed it', async () => {
      const prepared = await FullOsDataPathLab.prepare(lab);
      steps.push(prepared.step);
      expect(prepared.step.status, evidenceOf(prepared.step)).toBe('passed');
      dataPath = prepared.lab!;
      expect(dataPath.toaModulePath).toBe(`/lib/modules/${lab.image.kernelRelease}/extra/toa.ko`);
    });

    for (const scenario of SCENARIOS) {
      it(`${scenario.id}: ${scenario.title}`, async () => {
        const checks = await scenario.run(dataPath);
        expect(checks.filter((c) => !c.informational).length).toBeGreaterThanOrEqual(2);
        expect(checks.filter((c) => !c.passed && !c.informational).map(({ name, observed, evidence }) => ({ name, observed, evidence }))).toEqual([]);
      });
    }
  });
});

function evidenceOf(step: StepResult): string {
  const last = step.commands.at(-1);
  return `${step.name}: ${step.summary}\n${last ? `$ ${last.command}\n${last.stdout}${last.stderr}` : ''}${step.evidence ?? ''}`;
}
