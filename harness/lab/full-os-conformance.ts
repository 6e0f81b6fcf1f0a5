import type { RunSession } from '../lifecycle/run-session.ts';
import type { FullOsMachine, MachineTarget } from '../machine/machine.ts';
import { machineProvider } from '../machine/providers.ts';
import type { DetectedOs } from '../os/detect-os.ts';
import { profileById, type RepositoryMirror, type VipMethodName } from '../os/index.ts';
import type { Check } from '../core/scenario.ts';
import type { StepResult } from '../core/step.ts';
import { renderFullOsGuide, renderRowGuide, type GuideStep } from '../toa/install-guide-steps.ts';
import {
  cloudInitStep,
  detectOsStep,
  vipFromUserDataStep,
  letVipMethodsCoexist,
  pushToaSource,
  rebootStep,
  runGuideStep,
  verifyModuleAutoloaded,
  verifyVipsPresent,
} from './full-os-procedure.ts';
import { nginxBackend, pythonBackend, sendThroughBalancer, type GuestBackend } from './full-os-traffic.ts';

/**
 * The whole full-OS conformance run on one machine, in the guides' order:
 * toolchain, push + make, insmod, autoload, VIPs, reboot, module and VIPs back,
 * backends, then traffic through the simulated balancer with toa.ko loaded (the
 * access logs must name the simulated clients) and after `rmmod toa` (they must
 * name the balancer). Stops at the first failed step: later steps would only
 * fail for its reason.
 *
 * - On the lab's own images both VIP methods of the Debian family run (the Debian
 *   row's interfaces.d and the Ubuntu row's netplan) with two backends (Python, nginx).
 * - On a foreign image, the guest first says what it is (cloud-init done, OS
 *   detected), then exactly its guide row runs: its package manager, its devel
 *   package, its VIP method, the guides' Python server.
 */
export const FULL_OS_PLAN = {
  toaSourceDir: '/root/toa',
  interfacesDVips: ['192.0.2.100', '192.0.2.101'],
  netplanVips: ['192.0.2.102'],
  pythonPort: 80,
  nginxPort: 8080,
} as const;

export interface FullOsConformance {
  lab: FullOsMachine;
  /** The guide row the procedure followed (detected on a foreign image). */
  os: DetectedOs;
  steps: StepResult[];
  checks: Check[];
  /** Every step passed, so toa.ko is built, installed and autoloaded (the data-path scenarios need it). */
  completed: boolean;
}

export interface FullOsConformanceOptions {
  /** Registry name (harness/machine/providers.ts); default qemu. */
  provider?: string;
  /** A vendor's module folder (fetched on the host) to push and build instead of native/toa. */
  toaSource?: { dir: string; label: string };
  /** The guest's vCPUs under the QEMU provider (default 2). */
  cpus?: number;
  /** Boot (and reboot) to a working SSH login (default: the provider's; 600 s for a first boot with cloud-init). */
  bootTimeoutMs?: number;
  /** The guide row to follow on a foreign image instead of the detected one. */
  profile?: string;
  /** The VIPs came from the row's UserData at first boot (the target's seed): check them, configure nothing. */
  vipUserData?: { row: string; method: string };
  /**
   * A foreign image: the mirror or archive of the row the run named (its host is on the
   * package proxy's allow-list), pointed at before the toolchain.
   */
  repositories?: RepositoryMirror;
}

/** Boots `target` with the chosen provider and runs the conformance procedure on it. */
export async function runFullOsConformance(
  session: RunSession,
  target: MachineTarget | string,
  log: (line: string) => void = () => {},
  options: FullOsConformanceOptions = {},
): Promise<FullOsConformance> {
  const resolved: MachineTarget = typeof target === 'string' ? { kind: 'lab-image', image: target } : target;
  const lab = await machineProvider(options.provider ?? 'qemu').boot(session, resolved, {
    log,
    ...(options.cpus && { cpus: options.cpus }),
    ...(options.bootTimeoutMs && { bootTimeoutMs: options.bootTimeoutMs }),
  });
  const vipUserData = resolved.kind === 'disk-image' ? resolved.vipUserData : undefined;
  return runProcedureOn(lab, log, { ...options, ...(vipUserData && { vipUserData: { row: vipUserData.row, method: vipUserData.method } }) });
}

/**
 * The row's VIP step in the UCloud guide's UserData form: the bash script a user pastes
 * into the console's UserData box, for the seed. Undefined when the row's method has no
 * such form.
 */
export function vipUserDataFor(profileId: string, method: VipMethodName): string | undefined {
  try {
    return renderRowGuide(profileId, FULL_OS_PLAN, { vipMethod: method, vipForm: 'cloud-init' }).setup.find((s) => s.id === 'vip')?.script;
  } catch {
    return undefined;
  }
}

export async function runProcedureOn(lab: FullOsMachine, log: (line: string) => void, options: FullOsConformanceOptions = {}): Promise<FullOsConformance> {
  const steps: StepResult[] = [];
  const checks: Check[] = [];
  const ok = async (step: Promise<StepResult>): Promise<boolean> => {
    const result = await step;
    steps.push(result);
    log(`${result.status} ${(result.durationMs / 1000).toFixed(1)} s  ${result.name}: ${result.summary}`);
    return result.status !== 'failed';
  };

  let os: DetectedOs = { profileId: lab.name, match: 'row', description: `the lab's ${lab.name} image` };
  if (lab.origin === 'foreign') {
    const provisioned = await ok(cloudInitStep(lab));
    const detected = provisioned ? await detectOsStep(lab, options.profile) : undefined;
    if (detected) await ok(Promise.resolve(detected.step));
    if (!detected?.os) return { lab, os: { profileId: 'unknown', match: 'family', description: 'not detected' }, steps, checks, completed: false };
    os = detected.os;
  }
  const userData = lab.origin === 'foreign' ? options.vipUserData : undefined;
  const plan =
    lab.origin === 'lab'
      ? labPlan(os.profileId)
      : userData
        ? userDataPlan(os.profileId, userData, options.repositories)
        : rowPlan(os.profileId, await vipMethodTheGuestHas(lab, os.profileId), options.repositories);
  const guideSteps = async (list: ReadonlyArray<GuideStep | 'coexist'>) => {
    for (const step of list) if (!(await ok(step === 'coexist' ? letVipMethodsCoexist(lab) : runGuideStep(lab, step)))) return false;
    return true;
  };
  // The UserData form: cloud-init put the VIPs on lo at first boot, so they are checked as soon as it is done.
  if (plan.vipFromUserData && !(await ok(vipFromUserDataStep(lab, plan.vipFromUserData.step, plan.vipFromUserData.method)))) {
    return { lab, os, steps, checks, completed: false };
  }
  // The source is pushed once the toolchain is there (and the repositories step, if any, before it).
  const toolchainAt = plan.setup.findIndex((step) => step !== 'coexist' && step.id === 'toolchain');
  const [untilToolchain, rest] = [plan.setup.slice(0, toolchainAt + 1), plan.setup.slice(toolchainAt + 1)];
  const completed =
    (await guideSteps(untilToolchain)) &&
    (await ok(pushToaSource(lab, FULL_OS_PLAN.toaSourceDir, options.toaSource))) &&
    (await guideSteps(rest)) &&
    (await ok(rebootStep(lab))) &&
    (await ok(verifyModuleAutoloaded(lab))) &&
    (await ok(verifyVipsPresent(lab, plan.vips))) &&
    (await guideSteps(plan.backends));
  if (!completed) return { lab, os, steps, checks, completed };

  for (const backend of plan.traffic) {
    checks.push(...(await sendThroughBalancer(lab, backend, { connections: 4, toa: {}, expect: 'simulated-clients' })).checks);
  }
  await lab.guest.check('rmmod toa');
  for (const backend of plan.traffic) {
    checks.push(...(await sendThroughBalancer(lab, backend, { connections: 2, toa: {}, expect: 'balancer' })).checks);
  }
  return { lab, os, steps, checks, completed };
}

/** What one procedure runs: its setup steps up to the reboot, the VIPs that must come back, backends and traffic. */
interface ProcedurePlan {
  /** [repositories,] toolchain (the source is pushed after it), then build, load, autoload, VIPs; 'coexist': the lab's netplan drop-in. */
  setup: Array<GuideStep | 'coexist'>;
  vips: string[];
  backends: GuideStep[];
  traffic: GuestBackend[];
  /** The UserData form's VIP step (its `verify` is the check), taken out of `setup`: cloud-init ran it at first boot. */
  vipFromUserData?: { step: GuideStep; method: string };
}

function labPlan(profileId: string): ProcedurePlan {
  const guide = renderFullOsGuide(profileId, FULL_OS_PLAN);
  const netplanVip = guide.setup.at(-1)!; // the Ubuntu row's VIP step comes last
  return {
    // Two VIP methods on one machine, which no guide does: see letVipMethodsCoexist.
    setup: [...guide.setup.slice(0, -1), 'coexist', netplanVip],
    vips: [...FULL_OS_PLAN.interfacesDVips, ...FULL_OS_PLAN.netplanVips],
    backends: guide.backends,
    traffic: [pythonBackend(FULL_OS_PLAN.pythonPort), nginxBackend(FULL_OS_PLAN.nginxPort)],
  };
}

function rowPlan(profileId: string, vipMethod: VipMethodName | undefined, repositories: RepositoryMirror | undefined): ProcedurePlan {
  const guide = renderRowGuide(profileId, FULL_OS_PLAN, { ...(vipMethod && { vipMethod }), ...(repositories && { repositories }) });
  return { setup: guide.setup, vips: [...FULL_OS_PLAN.interfacesDVips], backends: guide.backends, traffic: [pythonBackend(FULL_OS_PLAN.pythonPort)] };
}

/**
 * The detected row's procedure with the VIPs from the UserData the seed carried. The
 * UserData was written for the configured row before boot; if the guest turns out to be
 * a row without that method, the configured row's procedure is followed instead.
 */
function userDataPlan(detectedRow: string, userData: { row: string; method: string }, repositories: RepositoryMirror | undefined): ProcedurePlan {
  const rowHas = (row: string) => profileById(row).vip.find((v) => v.method === userData.method)?.method;
  const row = rowHas(detectedRow) ? detectedRow : userData.row;
  const method = rowHas(row);
  const guide = renderRowGuide(row, FULL_OS_PLAN, { ...(method && { vipMethod: method }), vipForm: 'cloud-init', ...(repositories && { repositories }) });
  return {
    setup: guide.setup.filter((s) => s.id !== 'vip'),
    vips: [...FULL_OS_PLAN.interfacesDVips],
    backends: guide.backends,
    traffic: [pythonBackend(FULL_OS_PLAN.pythonPort)],
    vipFromUserData: { step: guide.setup.find((s) => s.id === 'vip')!, method: userData.method },
  };
}

/**
 * A row may list more than one VIP method (Debian: interfaces.d, and netplan where the
 * image has it, as Debian 13's cloud images do instead of ifupdown): the first whose tool
 * the guest has. Undefined (the row's first) when the guest has none of them: its step then
 * fails in the guide's own words.
 */
async function vipMethodTheGuestHas(lab: FullOsMachine, profileId: string): Promise<VipMethodName | undefined> {
  const methods = profileById(profileId).vip;
  // One method: the guide's own (its step installs what it needs, e.g. network-scripts).
  if (methods.length === 1) return undefined;
  const tools: Partial<Record<VipMethodName, string>> = { 'interfaces-d': 'ifup', netplan: 'netplan' };
  for (const { method } of methods) {
    const tool = tools[method];
    if (tool && (await lab.guest.run(`command -v ${tool}`)).exitCode === 0) return method;
  }
  return undefined;
}

/** The step table of a run, as Markdown (durations included): for logs and reports. */
export function formatStepTable(steps: readonly StepResult[]): string {
  const rows = steps.map((s) => `| ${s.status} | ${(s.durationMs / 1000).toFixed(1)} s | ${s.name} | ${s.summary.replaceAll('\n', ' ')} |`);
  return ['| status | duration | step | summary |', '| --- | ---: | --- | --- |', ...rows].join('\n');
}
