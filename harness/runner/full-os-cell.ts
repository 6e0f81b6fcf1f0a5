import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DataPathLab } from '../lab/data-path-lab.ts';
import { runFullOsConformance, type FullOsConformance } from '../lab/full-os-conformance.ts';
import { NoRootAccessError, type MachineTarget } from '../machine/machine.ts';
import type { RepositoryMirror } from '../os/index.ts';
import { prepareFullOsDataPath, type FullOsDataPathOptions } from '../lab/full-os-data-path-lab.ts';
import { fetchToaSource, withoutBuildDirs } from '../toa/module-choice.ts';
import { guestGone } from '../lab/guest-health.ts';
import { errorText, notRun, type CellContext, type CellFacts } from './cell.ts';
import { moduleFacts, moduleVerdict } from './module-verdict.ts';
import { firstErrors } from '../toa/failure-signatures.ts';
import { runScenarios } from './run-scenarios.ts';
import { check, type Check, type Scenario, type ScenarioOutcome } from '../core/scenario.ts';
import type { StepKind, StepResult } from '../core/step.ts';

/**
 * A whole OS in one boot: the guides' procedure (toolchain, make, insmod,
 * autoload, VIP on loopback, reboot, backends, traffic), reported as two
 * matrix rows — the procedure with its traffic verdicts, and what survived
 * the reboot — then the data-path scenarios on the toa.ko the guide
 * installed, one row each, as on a micro-VM.
 */
export const FULL_OS_SCENARIOS = [
  {
    id: 'guide-procedure',
    title: "The guides' procedure on a whole OS: toolchain, make, insmod, autoload, VIP, backends, traffic",
  },
  {
    id: 'reboot-persistence',
    title: 'After a reboot: toa.ko loaded again and every VIP back on lo',
  },
] as const;

export type FullOsScenarioId = (typeof FULL_OS_SCENARIOS)[number]['id'];

export interface FullOsCellOptions {
  /** A lab image, or a user's disk. */
  target: MachineTarget;
  /** The procedure's rows wanted (guide-procedure, reboot-persistence). */
  scenarios: readonly FullOsScenarioId[];
  /** The data-path scenarios to run after the procedure. */
  dataPath?: ReadonlyArray<Scenario<DataPathLab>>;
  /** Registry name (harness/machine/providers.ts); default qemu. */
  provider?: string;
  /** The guide row to follow on a foreign image instead of the detected one. */
  profile?: string;
  /** A guide row's mirror or archive for its packages (harness/os RepositoryMirror). */
  repositories?: RepositoryMirror;
  /** The option kind the balancer sends in the data-path scenarios (default 254). */
  toaKind?: number;
  /** The module spec's kinds and the balancer's profile (default: toaKind for both). */
  moduleKinds?: FullOsDataPathOptions['moduleKinds'];
  balancerProfile?: FullOsDataPathOptions['balancerProfile'];
  /** A vendor's TOA source (directory, tarball or git URL) built by the guide's steps instead of native/toa. */
  toaSource?: string;
  /** The guest's vCPUs (default 2). */
  vcpus?: number;
  /** Boot (and reboot) to a working SSH login, if not the provider's default. */
  bootTimeoutMs?: number;
}

export async function runFullOsCell(ctx: CellContext, options: FullOsCellOptions): Promise<void> {
  const dataPath = options.dataPath ?? [];
  const procedureRows = FULL_OS_SCENARIOS.filter((s) => options.scenarios.includes(s.id));
  const started = Date.now();
  const outcomes: ScenarioOutcome[] = [];
  const record = (outcome: ScenarioOutcome): void => {
    outcomes.push(outcome);
    ctx.record(outcome);
  };
  const vendor = options.toaSource;
  const fetched = vendor ? await fetchToaSource(vendor, await ctx.session.subdir('toa-source')) : undefined;
  if (fetched && !fetched.moduleDir) {
    for (const scenario of procedureRows) record(procedureOutcome(scenario, [fetched.step], [], Date.now() - started));
    for (const scenario of dataPath) record(notRun(scenario, `the TOA source could not be had: ${fetched.step.summary}`));
    ctx.note(`${ctx.cell}: module verdict: did not build (${fetched.step.summary})`);
    ctx.facts?.({ moduleVerdict: 'did not build', moduleStatus: 'failed', moduleWords: fetched.step.summary });
    return;
  }
  ctx.status("building or booting the image, then the guide's steps…");
  let run: Awaited<ReturnType<typeof runFullOsConformance>>;
  try {
    run = await runFullOsConformance(ctx.session, options.target, (line) => ctx.progress(line), {
      provider: options.provider ?? 'qemu',
      ...(fetched?.moduleDir && { toaSource: { dir: fetched.moduleDir, label: vendor! } }),
      ...(options.vcpus && { cpus: options.vcpus }),
      ...(options.bootTimeoutMs && { bootTimeoutMs: options.bootTimeoutMs }),
      ...(options.profile && { profile: options.profile }),
      ...(options.repositories && { repositories: options.repositories }),
    });
  } catch (error) {
    // Booted and logged in, but no root: the image's own failing, not a boot's.
    const why = error instanceof NoRootAccessError ? 'the image cannot be driven' : 'the image did not start';
    for (const scenario of [...procedureRows, ...dataPath]) record(notRun(scenario, `${why}: ${errorText(error)}`));
    return;
  }
  try {
    const steps = fetched ? [fetched.step, ...run.steps] : run.steps;
    for (const scenario of procedureRows) record(procedureOutcome(scenario, steps, run.checks, Date.now() - started));
    ctx.note(
      `${ctx.cell}: full OS (${run.lab.origin === 'lab' ? "the lab's image" : 'a disk the lab did not build'}), ${run.os.description}, ` +
        `guide row ${run.os.profileId}${run.os.match === 'family' ? " (its family's)" : ''}, kernel ${run.lab.kernelRelease}, provider ${run.lab.provider}, ` +
        `ssh after ${(run.lab.bootMs / 1000).toFixed(1)} s`,
    );
    ctx.facts?.({ kernel: run.lab.kernelRelease });
    if (dataPath.length) {
      await runDataPathScenarios({ ...ctx, record }, run, dataPath, {
        toaKind: options.balancerProfile?.kind ?? options.toaKind ?? 254,
        ownModule: !vendor,
        ...(options.moduleKinds && { moduleKinds: options.moduleKinds }),
        ...(options.balancerProfile && { balancerProfile: options.balancerProfile }),
      });
    }
    if (vendor) ctx.note(`${ctx.cell}: module verdict: ${fullOsModuleVerdict(steps, outcomes)}`);
    // Ours too: a module × kernel run's compatibility table has a row for it on this OS.
    ctx.facts?.(fullOsModuleFacts(steps, outcomes));
  } finally {
    copyFileSync(run.lab.console.path, join(ctx.outDir, `console-${ctx.cell}.log`));
    // The QEMU provider's VM stops; a Vagrant one is destroyed (domain, volume and all).
    await run.lab.stop();
  }
}

/** The procedure's two rows: everything up to the reboot (plus the traffic verdicts), and what the reboot kept. */
function procedureOutcome(
  scenario: (typeof FULL_OS_SCENARIOS)[number],
  steps: readonly StepResult[],
  trafficChecks: readonly Check[],
  durationMs: number,
): ScenarioOutcome {
  const rebootAt = steps.findIndex((s) => s.kind === 'reboot');
  const before = rebootAt < 0 ? steps : steps.slice(0, rebootAt);
  const after = rebootAt < 0 ? [] : steps.slice(rebootAt);
  const checks: Check[] =
    scenario.id === 'guide-procedure'
      ? [...stepChecks(before), ...trafficChecks]
      : after.length
        ? stepChecks(after)
        : [check('the run reached the reboot', false, 'the steps before the reboot pass', 'a step before the reboot failed')];
  return { scenario: scenario.id, title: scenario.title, checks, steps: scenario.id === 'guide-procedure' ? [...steps] : after, durationMs };
}

/** Where a failed step means the module never became a .ko: a verdict on the module. */
const BUILD_KINDS: ReadonlySet<StepKind> = new Set(['fetch', 'push', 'build']);
/**
 * Where a failed step is the image's, not the module's: no cloud-init, an unknown OS, no
 * kernel-devel package for the running kernel (the guide's "contact the image provider").
 */
const IMAGE_KINDS: ReadonlySet<StepKind> = new Set(['boot', 'provision', 'detect-os', 'toolchain']);

/** A vendor's module on a whole OS, in one word: where in the guide's steps it stopped, or what the scenarios said. */
function fullOsModuleVerdict(steps: readonly StepResult[], outcomes: readonly ScenarioOutcome[]): string {
  const failed = steps.find((s) => s.status === 'failed');
  if (failed?.kind && BUILD_KINDS.has(failed.kind)) return `did not build (${failed.summary})`;
  if (failed?.kind === 'load') return `did not load (${failed.summary})`;
  if (failed?.kind && IMAGE_KINDS.has(failed.kind)) return `not tested: the image stopped at "${failed.name}" (${failed.summary})`;
  return moduleVerdict(outcomes);
}

/**
 * The verdict as the cell's facts (the compatibility table): the short word where the guide's
 * steps stopped — the long form with the step's summary stays in the run's notes — and the
 * words behind it, the failed step's first compiler error (or first line of evidence).
 */
function fullOsModuleFacts(steps: readonly StepResult[], outcomes: readonly ScenarioOutcome[]): Partial<CellFacts> {
  const failed = steps.find((s) => s.status === 'failed');
  if (failed?.kind && (BUILD_KINDS.has(failed.kind) || failed.kind === 'load' || IMAGE_KINDS.has(failed.kind))) {
    const words = withoutBuildDirs((firstErrors(failed.evidence ?? '', 1)[0] ?? failed.evidence?.trim().split('\n')[0] ?? failed.summary).trim());
    const moduleVerdict = BUILD_KINDS.has(failed.kind) ? 'did not build' : failed.kind === 'load' ? 'did not load' : `not tested: the image stopped at "${failed.name}"`;
    return { moduleVerdict, moduleStatus: IMAGE_KINDS.has(failed.kind) ? 'not-tested' : 'failed', moduleWords: words || failed.summary };
  }
  return moduleFacts(outcomes);
}

/** On the toa.ko the guide built and installed: needs the whole procedure to have passed. */
async function runDataPathScenarios(
  ctx: CellContext,
  run: FullOsConformance,
  scenarios: ReadonlyArray<Scenario<DataPathLab>>,
  module: FullOsDataPathOptions,
): Promise<void> {
  if (!run.completed) {
    for (const scenario of scenarios) ctx.record(notRun(scenario, "the guide's procedure did not complete (see guide-procedure): no toa.ko installed to test"));
    return;
  }
  ctx.status('data path: building toa-backend in the guest…');
  const prepared = await prepareFullOsDataPath(run.lab, module);
  ctx.progress(`${prepared.step.status} ${(prepared.step.durationMs / 1000).toFixed(1)} s  ${prepared.step.name}: ${prepared.step.summary}`);
  if (!prepared.lab) {
    for (const scenario of scenarios) ctx.record(notRun(scenario, `the data-path set-up failed: ${prepared.step.summary}`));
    return;
  }
  const lab = prepared.lab;
  const since = await lab.markKernelLog();
  await runScenarios(lab, scenarios, ctx.record, {
    onStart: (scenario, index) => ctx.status(`scenario ${index + 1}/${scenarios.length}: ${scenario.id}`),
    guestGone: () => guestGone(lab, since),
  });
}

function stepChecks(steps: readonly StepResult[]): Check[] {
  return steps.map((s) => check(`step: ${s.name}`, s.status === 'passed', 'passes', `${s.status}: ${s.summary}`, s.evidence));
}
