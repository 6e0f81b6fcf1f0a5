import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { runFullOsConformance, type FullOsProvider } from '../lab/full-os-conformance.ts';
import { errorText, notRun, type CellContext } from './cell.ts';
import { check, type Check, type ScenarioOutcome } from './scenario.ts';
import type { StepResult } from './step.ts';

/**
 * The full-OS scenarios: one boot carries out the guides' whole procedure
 * (toolchain, make, insmod, autoload, VIP on loopback, reboot, backends,
 * traffic), reported as two matrix rows — the procedure with its traffic
 * verdicts, and what survived the reboot.
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

export async function runFullOsCell(
  ctx: CellContext,
  options: { image: string; scenarios: readonly FullOsScenarioId[]; provider?: FullOsProvider },
): Promise<void> {
  const wanted = FULL_OS_SCENARIOS.filter((s) => options.scenarios.includes(s.id));
  ctx.status('building or booting the image, then the guide\'s steps…');
  const started = Date.now();
  let run: Awaited<ReturnType<typeof runFullOsConformance>>;
  try {
    run = await runFullOsConformance(
      ctx.session,
      options.image,
      (line) => {
        ctx.say(line);
        ctx.status(line.slice(0, 80));
      },
      options.provider ?? 'qemu',
    );
  } catch (error) {
    for (const scenario of wanted) ctx.record(notRun(scenario, `the image did not start: ${errorText(error)}`));
    return;
  }
  try {
    const durationMs = Date.now() - started;
    const rebootAt = run.steps.findIndex((s) => AFTER_REBOOT.test(s.name));
    const before = rebootAt < 0 ? run.steps : run.steps.slice(0, rebootAt);
    const after = rebootAt < 0 ? [] : run.steps.slice(rebootAt);
    for (const scenario of wanted) {
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
  } finally {
    copyFileSync(run.lab.vm.console.path, join(ctx.outDir, `console-${ctx.cell}.log`));
    // The QEMU provider's VM stops; a Vagrant one is destroyed (domain, volume and all).
    if (run.lab.vm.stop) await run.lab.vm.stop();
    else await run.lab.vm.destroy?.();
  }
}

function stepChecks(steps: readonly StepResult[]): Check[] {
  return steps.map((s) => check(`step: ${s.name}`, s.status === 'passed', 'passes', `${s.status}: ${s.summary}`, s.evidence));
}
