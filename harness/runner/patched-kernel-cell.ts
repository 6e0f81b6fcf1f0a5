import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { check, type Scenario, type ScenarioOutcome } from '../core/scenario.ts';
import type { DataPathLab } from '../lab/data-path-lab.ts';
import { guestGone } from '../lab/guest-health.ts';
import { findCachedPatchedKernel } from '../patched-kernel/kernel-cache.ts';
import { PatchedKernelLab } from '../patched-kernel/patched-kernel-lab.ts';
import { runPatchedKernelProcedure } from '../patched-kernel/procedure.ts';
import { notRun, type CellContext } from './cell.ts';
import { runScenarios } from './run-scenarios.ts';

/**
 * The Huawei guide's 2.6.32 path as a cell of `toa-lab run` (never in the
 * default set): rebuild the kernel with TOA in-tree (steps 1–5, cached on the
 * host), the guide's grub.conf edit, reboot into the -toa kernel on the CentOS 6
 * layout, modprobe, autoload (steps 6–7) — one row, `guide-procedure` — then
 * step 8 as every data-path scenario through the ordinary scenario runner, on
 * the in-tree toa.ko loaded with `modprobe toa`.
 */
/** What a cold build costs, measured (BENCHMARKS.md, "the patched kernel"): said before it starts. */
const COLD_BUILD = '10–26 minutes on 2 cores (make -j 2 of linux-source-6.1; cached by recipe hash after that)';

export async function runPatchedKernelCell(ctx: CellContext, options: { dataPath: ReadonlyArray<Scenario<DataPathLab>>; procedure: boolean }): Promise<void> {
  const started = Date.now();
  if (!(await findCachedPatchedKernel())) ctx.progress(`the patched kernel is not built on this machine yet: building it first takes ${COLD_BUILD}`);
  ctx.status('patched kernel: build (or cache), boot loader, reboot, modprobe…');
  const run = await runPatchedKernelProcedure({ session: ctx.session, log: (line) => ctx.progress(line), scenariosByCaller: true });
  const procedure: ScenarioOutcome = {
    scenario: 'guide-procedure',
    title: "The guide's 2.6.32 procedure: kernel with TOA in-tree, grub.conf, reboot, modprobe toa, autoload",
    checks: run.steps.map((s) => check(`step: ${s.name}`, s.status === 'passed', 'passes', `${s.status}: ${s.summary}`, s.evidence)),
    steps: run.steps,
    durationMs: Date.now() - started,
  };
  if (options.procedure) ctx.record(procedure);
  try {
    if (!run.passed || !run.vm) {
      for (const scenario of options.dataPath) ctx.record(notRun(scenario, "the guide's procedure did not complete (see guide-procedure)"));
      return;
    }
    ctx.note(`${ctx.cell}: patched kernel ${run.guest.unameR ?? '?'} (${run.kernel?.built ? 'built now' : 'cached'}), booted from its own grub.conf; ${run.vm.accelerator.accelerator}`);
    const lab = await PatchedKernelLab.start(ctx.session, run.vm);
    const since = await lab.markKernelLog();
    await runScenarios(lab, options.dataPath, (outcome) => ctx.record(outcome), {
      onStart: (scenario, index) => ctx.status(`scenario ${index + 1}/${options.dataPath.length}: ${scenario.id}`),
      guestGone: () => guestGone(lab, since),
    });
  } finally {
    if (run.vm) copyFileSync(run.vm.console.path, join(ctx.outDir, `console-${ctx.cell}.log`));
    await run.stop();
  }
}
