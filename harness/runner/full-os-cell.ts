import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DataPathLab } from '../lab/data-path-lab.ts';
import { runFullOsConformance, type FullOsConformance, type FullOsProvider } from '../lab/full-os-conformance.ts';
import { FullOsDataPathLab } from '../lab/full-os-data-path-lab.ts';
import { fetchToaSource } from '../toa/module-choice.ts';
import { guestGone } from '../lab/guest-health.ts';
import { errorText, notRun, type CellContext } from './cell.ts';
import { moduleVerdict } from './module-verdict.ts';
import { runScenarios } from './run-scenarios.ts';
import { check, type Check, type Scenario, type ScenarioOutcome } from './scenario.ts';
import type { StepResult } from './step.ts';

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

/** Steps that happen at or after the reboot: the persistence row's evidence. */
const AFTER_REBOOT = /reboot/i;

export interface FullOsCellOptions {
  image: string;
  /** The procedure's rows wanted (guide-procedure, reboot-persistence). */
  scenarios: readonly FullOsScenarioId[];
  /** The data-path scenarios to run after the procedure. */
  dataPath?: ReadonlyArray<Scenario<DataPathLab>>;
  provider?: FullOsProvider;
  /** The option kind the balancer sends in the data-path scenarios (default 254). */
  toaKind?: number;
  /** A vendor's TOA source (directory, tarball or git URL) built by the guide's steps instead of native/toa. */
  toaSource?: string;
  /** The guest's vCPUs (default 2). */
  vcpus?: number;
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
    ctx.facts?.({ moduleVerdict: 'did not build' });
    return;
  }
  ctx.status("building or booting the image, then the guide's steps…");
  let run: Awaited<ReturnType<typeof runFullOsConformance>>;
  try {
    run = await runFullOsConformance(
      ctx.session,
      options.image,
      (line) => ctx.progress(line),
      options.provider ?? 'qemu',
      {
        ...(fetched?.moduleDir && { toaSource: { dir: fetched.moduleDir, label: vendor! } }),
        ...(options.vcpus && { cpus: options.vcpus }),
      },
    );
  } catch (error) {
    for (const scenario of [...procedureRows, ...dataPath]) record(notRun(scenario, `the image did not start: ${errorText(error)}`));
    return;
  }
  try {
    const steps = fetched ? [fetched.step, ...run.steps] : run.steps;
    for (const scenario of procedureRows) record(procedureOutcome(scenario, steps, run.checks, Date.now() - started));
    ctx.note(`${ctx.cell}: full OS, kernel ${run.lab.image.kernelRelease}, provider ${options.provider ?? 'qemu'}`);
    ctx.facts?.({ kernel: run.lab.image.kernelRelease });
    if (dataPath.length) await runDataPathScenarios({ ...ctx, record }, run, dataPath, options.toaKind ?? 254, !vendor);
    if (vendor) ctx.note(`${ctx.cell}: module verdict: ${fullOsModuleVerdict(steps, outcomes)}`);
    if (vendor) ctx.facts?.({ moduleVerdict: fullOsModuleVerdict(steps, outcomes) });
  } finally {
    copyFileSync(run.lab.vm.console.path, join(ctx.outDir, `console-${ctx.cell}.log`));
    // The QEMU provider's VM stops; a Vagrant one is destroyed (domain, volume and all).
    if (run.lab.vm.stop) await run.lab.vm.stop();
    else await run.lab.vm.destroy?.();
  }
}

/** The procedure's two rows: everything up to the reboot (plus the traffic verdicts), and what the reboot kept. */
function procedureOutcome(
  scenario: (typeof FULL_OS_SCENARIOS)[number],
  steps: readonly StepResult[],
  trafficChecks: readonly Check[],
  durationMs: number,
): ScenarioOutcome {
  const rebootAt = steps.findIndex((s) => AFTER_REBOOT.test(s.name));
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

/** A vendor's module on a whole OS, in one word: where in the guide's steps it stopped, or what the scenarios said. */
function fullOsModuleVerdict(steps: readonly StepResult[], outcomes: readonly ScenarioOutcome[]): string {
  const failed = steps.find((s) => s.status === 'failed');
  if (failed && /fetch|push|build|make/i.test(failed.name)) return `did not build (${failed.summary})`;
  if (failed && /load the module|insmod/i.test(failed.name)) return `did not load (${failed.summary})`;
  return moduleVerdict(outcomes);
}

/** On the toa.ko the guide built and installed: needs the whole procedure to have passed. */
async function runDataPathScenarios(
  ctx: CellContext,
  run: FullOsConformance,
  scenarios: ReadonlyArray<Scenario<DataPathLab>>,
  toaKind: number,
  ownModule: boolean,
): Promise<void> {
  if (!run.completed) {
    for (const scenario of scenarios) ctx.record(notRun(scenario, "the guide's procedure did not complete (see guide-procedure): no toa.ko installed to test"));
    return;
  }
  ctx.status('data path: building toa-backend in the guest…');
  const prepared = await FullOsDataPathLab.prepare(run.lab, { toaKind, ownModule });
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
