import type { RunSession } from '../lifecycle/run-session.ts';
import type { Check } from '../runner/scenario.ts';
import type { StepResult } from '../runner/step.ts';
import { renderFullOsGuide, type GuideStep } from '../toa/install-guide-steps.ts';
import type { DebianImage } from '../images/debian/build-debian-image.ts';
import { VagrantLab } from '../vm/vagrant/vagrant-lab.ts';
import type { ConsoleLog } from '../vm/console-log.ts';
import { FullOsLab } from './full-os-lab.ts';
import type { RebootableGuestLab } from './guest-lab.ts';
import {
  letVipMethodsCoexist,
  pushToaSource,
  rebootStep,
  runGuideStep,
  verifyModuleAutoloaded,
  verifyVipsPresent,
} from './full-os-procedure.ts';
import { nginxBackend, pythonBackend, sendThroughBalancer } from './full-os-traffic.ts';

/**
 * The whole full-OS conformance run on one image, in the guides' order:
 * toolchain, push + make, insmod, autoload, VIPs (interfaces.d and netplan),
 * reboot, module and VIPs back, backends, then traffic through the simulated
 * balancer with toa.ko loaded (the access logs must name the simulated
 * clients) and after `rmmod toa` (they must name the balancer). Stops at the
 * first failed step: later steps would only fail for its reason.
 */
export const FULL_OS_PLAN = {
  toaSourceDir: '/root/toa',
  interfacesDVips: ['192.0.2.100', '192.0.2.101'],
  netplanVips: ['192.0.2.102'],
  pythonPort: 80,
  nginxPort: 8080,
} as const;

/** A whole-OS lab from either provider: what the conformance run and its cell need. */
export type FullOsProvider = 'qemu' | 'vagrant';

export type AnyFullOsLab = RebootableGuestLab & {
  image: DebianImage;
  vm: { console: ConsoleLog; stop?(): Promise<void>; destroy?(): Promise<void> };
};

export interface FullOsConformance {
  lab: AnyFullOsLab;
  steps: StepResult[];
  checks: Check[];
  /** Every step passed, so toa.ko is built, installed and autoloaded (the data-path scenarios need it). */
  completed: boolean;
}

export interface FullOsConformanceOptions {
  /** A vendor's module folder (fetched on the host) to push and build instead of native/toa. */
  toaSource?: { dir: string; label: string };
  /** The guest's vCPUs under the QEMU provider (default 2). */
  cpus?: number;
}

export async function runFullOsConformance(
  session: RunSession,
  image: string,
  log: (line: string) => void = () => {},
  provider: FullOsProvider = 'qemu',
  options: FullOsConformanceOptions = {},
): Promise<FullOsConformance> {
  const lab: AnyFullOsLab =
    provider === 'vagrant' ? await VagrantLab.start(session, { image, log }) : await FullOsLab.start(session, { image, log, ...(options.cpus && { cpus: options.cpus }) });
  const guide = renderFullOsGuide(image, FULL_OS_PLAN);
  const steps: StepResult[] = [];
  const checks: Check[] = [];
  const ok = async (step: Promise<StepResult>): Promise<boolean> => {
    const result = await step;
    steps.push(result);
    log(`${result.status} ${(result.durationMs / 1000).toFixed(1)} s  ${result.name}: ${result.summary}`);
    return result.status === 'passed';
  };
  const guideSteps = async (list: readonly GuideStep[]) => {
    for (const step of list) if (!(await ok(runGuideStep(lab, step)))) return false;
    return true;
  };

  const [toolchain, ...rest] = guide.setup;
  const netplanVip = rest.pop()!; // the Ubuntu row's VIP step comes last
  const completed =
    (await guideSteps([toolchain!])) &&
    (await ok(pushToaSource(lab, FULL_OS_PLAN.toaSourceDir, options.toaSource))) &&
    (await guideSteps(rest)) &&
    (await ok(letVipMethodsCoexist(lab))) &&
    (await guideSteps([netplanVip])) &&
    (await ok(rebootStep(lab))) &&
    (await ok(verifyModuleAutoloaded(lab))) &&
    (await ok(verifyVipsPresent(lab, [...FULL_OS_PLAN.interfacesDVips, ...FULL_OS_PLAN.netplanVips]))) &&
    (await guideSteps(guide.backends));
  if (!completed) return { lab, steps, checks, completed };

  const backends = [pythonBackend(FULL_OS_PLAN.pythonPort), nginxBackend(FULL_OS_PLAN.nginxPort)];
  for (const backend of backends) {
    checks.push(...(await sendThroughBalancer(lab, backend, { connections: 4, toa: {}, expect: 'simulated-clients' })).checks);
  }
  await lab.guest.check('rmmod toa');
  for (const backend of backends) {
    checks.push(...(await sendThroughBalancer(lab, backend, { connections: 2, toa: {}, expect: 'balancer' })).checks);
  }
  return { lab, steps, checks, completed };
}

/** The step table of a run, as Markdown (durations included): for logs and reports. */
export function formatStepTable(steps: readonly StepResult[]): string {
  const rows = steps.map((s) => `| ${s.status} | ${(s.durationMs / 1000).toFixed(1)} s | ${s.name} | ${s.summary.replaceAll('\n', ' ')} |`);
  return ['| status | duration | step | summary |', '| --- | ---: | --- | --- |', ...rows].join('\n');
}
