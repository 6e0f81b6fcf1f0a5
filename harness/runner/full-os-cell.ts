import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DataPathLab } from '../lab/data-path-lab.ts';
import { FULL_OS_PLAN, runFullOsConformance, type FullOsConformance, type FullOsProvider } from '../lab/full-os-conformance.ts';
import { FullOsDataPathLab } from '../lab/full-os-data-path-lab.ts';
import { errorText, notRun, type CellContext } from './cell.ts';
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
}

export async function runFullOsCell(ctx: CellContext, options: FullOsCellOptions): Promise<void> {
  const dataPath = options.dataPath ?? [];
  const procedureRows = FULL_OS_SCENARIOS.filter((s) => options.scenarios.includes(s.id));
  ctx.status('building or booting the image, then the guide\'s steps…');
  const started = Date.now();
  let run: Awaited<ReturnType<typeof runFullOsConformance>>;
  try {
    run = await runFullOsConformance(
      ctx.session,
      options.image,
      (line) => ctx.progress(line),
      options.provider ?? 'qemu',
    );
  } catch (error) {
    for (const scenario of [...procedureRows, ...dataPath]) ctx.record(notRun(scenario, `the image did not start: ${errorText(error)}`));
    return;
  }
  try {
    const durationMs = Date.now() - started;
    const rebootAt = run.steps.findIndex((s) => AFTER_REBOOT.test(s.name));
    const before = rebootAt < 0 ? run.steps : run.steps.slice(0, rebootAt);
    const after = rebootAt < 0 ? [] : run.steps.slice(rebootAt);
    for (const scenario of procedureRows) {
      const steps = scenario.id === 'guide-procedure' ? run.steps : after;
      const checks: Check[] =
        scenario.id === 'guide-procedure'
          ? [...stepChecks(before), ...run.checks]
          : after.length
            ? stepChecks(after)
            : [check('the run reached the reboot', false, 'the steps before the reboot pass', 'a step before the reboot failed')];
      const outcome: ScenarioOutcome = { scenario: scenario.id, title: scenario.title, checks, steps, durationMs };
      ctx.record(outcome);
    }
    ctx.note(`${ctx.cell}: full OS, kernel ${run.lab.image.kernelRelease}, provider ${options.provider ?? 'qemu'}`);
    if (dataPath.length) await runDataPathScenarios(ctx, run, dataPath, options.toaKind ?? 254);
  } finally {
    copyFileSync(run.lab.vm.console.path, join(ctx.outDir, `console-${ctx.cell}.log`));
    // The QEMU provider's VM stops; a Vagrant one is destroyed (domain, volume and all).
    if (run.lab.vm.stop) await run.lab.vm.stop();
    else await run.lab.vm.destroy?.();
  }
}

/** On the toa.ko the guide built and installed: needs the whole procedure to have passed. */
async function runDataPathScenarios(
  ctx: CellContext,
  run: FullOsConformance,
  scenarios: ReadonlyArray<Scenario<DataPathLab>>,
  toaKind: number,
): Promise<void> {
  if (!run.completed) {
    for (const scenario of scenarios) ctx.record(notRun(scenario, "the guide's procedure did not complete (see guide-procedure): no toa.ko installed to test"));
    return;
  }
  ctx.status('data path: building toa-backend in the guest…');
  const prepared = await FullOsDataPathLab.prepare(run.lab, {
    toaKind,
    freePort: { port: FULL_OS_PLAN.pythonPort, pkillPattern: `http.server ${FULL_OS_PLAN.pythonPort}` },
  });
  ctx.progress(`${prepared.step.status} ${(prepared.step.durationMs / 1000).toFixed(1)} s  ${prepared.step.name}: ${prepared.step.summary}`);
  if (!prepared.lab) {
    for (const scenario of scenarios) ctx.record(notRun(scenario, `the data-path set-up failed: ${prepared.step.summary}`));
    return;
  }
  await runScenarios(prepared.lab, scenarios, ctx.record, (scenario, index) =>
    ctx.status(`scenario ${index + 1}/${scenarios.length}: ${scenario.id}`),
  );
}

function stepChecks(steps: readonly StepResult[]): Check[] {
  return steps.map((s) => check(`step: ${s.name}`, s.status === 'passed', 'passes', `${s.status}: ${s.summary}`, s.evidence));
}
