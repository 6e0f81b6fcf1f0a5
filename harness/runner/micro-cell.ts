import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { guestKernelSource, resolveGuestKernel } from '../images/microvm/guest-kernel.ts';
import type { UserKernelPackages } from '../kernels/kernel-packages.ts';
import { MicroLab } from '../lab/micro-lab.ts';
import type { DebianSuite } from '../kernels/debian-suite.ts';
import type { KernelSpec } from '../kernels/kernel-spec.ts';
import type { BalancerProfile } from '../net/index.ts';
import { prepareModule, type ToaModuleChoice } from '../toa/module-choice.ts';
import { toaBpfUnsupportedReason } from '../toa/toa-bpf.ts';
import { guestGone } from '../lab/guest-health.ts';
import { describeStart } from '../vm/micro-vm.ts';
import { errorText, notRun, type CellContext } from './cell.ts';
import { runScenarios } from './run-scenarios.ts';
import { moduleFacts, moduleVerdict } from './module-verdict.ts';
import { check, scenarioPassed, type Scenario, type ScenarioOutcome } from '../core/scenario.ts';
import type { StepResult } from '../core/step.ts';

/**
 * One micro-VM image through its scenarios: get the module under test for
 * this kernel (ours, or a vendor's built here), boot, run, and give the
 * module one verdict for the image.
 */
export async function runMicroCell(
  ctx: CellContext,
  options: {
    suite: DebianSuite;
    /** Any archive kernel (`--kernel`); wins over `suite`. */
    kernel?: KernelSpec;
    /** A user's own kernel packages (--kernel-deb); wins over both. */
    kernelPackages?: UserKernelPackages;
    scenarios: ReadonlyArray<Scenario<MicroLab>>;
    module: ToaModuleChoice;
    toaKind: number;
    /** The kinds the module accepts (default: toaKind). */
    moduleKinds?: readonly number[];
    /** What the balancer sends (default: the standard TOA under toaKind). */
    balancerProfile?: BalancerProfile;
    /** On a failure, keep the VM up for inspection until the user presses Ctrl-C. */
    keepOnFailure?: boolean;
    /** The guest's vCPUs (default 2). */
    vcpus?: number;
  },
): Promise<void> {
  const outcomes: ScenarioOutcome[] = [];
  const record = (outcome: ScenarioOutcome): void => {
    outcomes.push(outcome);
    ctx.record(outcome);
  };
  ctx.status('preparing the image and module…');
  let lab: MicroLab;
  try {
    const guestKernel = await resolveGuestKernel(guestKernelSource(options), ctx.say);
    ctx.facts?.({ kernel: guestKernel.kernelRelease }); // known before a build can fail: the compatibility table's column
    // eBPF TOA on a kernel that cannot run it: every scenario is "not applicable", nothing boots.
    const bpfRefusal = options.module.origin === 'bpf' ? toaBpfUnsupportedReason(guestKernel.kernelRelease) : undefined;
    if (bpfRefusal) {
      for (const scenario of options.scenarios) record({ scenario: scenario.id, title: scenario.title, checks: [], durationMs: 0, skipped: bpfRefusal });
      ctx.note(`${ctx.cell}: ${bpfRefusal}`);
      return;
    }
    const prepared = await prepareModule(options.module, guestKernel, await ctx.session.subdir('module'));
    if (prepared.buildFailure) {
      const verdict = prepared.buildVerdict ?? 'did not build';
      record(moduleOutcome(prepared.steps, `${verdict}: ${prepared.buildFailure}`));
      for (const scenario of options.scenarios) record(notRun(scenario, `the TOA module ${verdict === 'did not build' ? 'did not build' : 'produced no .ko'} for this kernel`));
      ctx.note(`${ctx.cell}: module verdict: ${verdict}`);
      ctx.facts?.({ moduleVerdict: verdict, moduleStatus: 'failed', ...(prepared.said && { moduleWords: prepared.said }) });
      return;
    }
    ctx.status('booting…');
    lab = await MicroLab.start(ctx.session, {
      suite: options.suite,
      ...(options.kernel && { kernel: options.kernel }),
      ...(options.kernelPackages && { kernelPackages: options.kernelPackages }),
      log: ctx.say,
      toaKind: options.toaKind,
      ...(options.moduleKinds && { moduleKinds: options.moduleKinds }),
      ...(options.balancerProfile && { balancerProfile: options.balancerProfile }),
      ...(options.vcpus && { cpus: options.vcpus }),
      // A micro-VM cell checks the data path, never a boot: it starts from the image's saved
      // guest when there is one (TOA_LAB_COLD_BOOT=1 boots every cell; the note says which).
      start: 'snapshot',
      ...(prepared.koPath && { toaModule: prepared.koPath }),
      ...(options.module.origin === 'bpf' && { toaBpf: options.module.object ? { userObject: options.module.object } : {} }),
    });
    if (prepared.steps.length) record(moduleOutcome(prepared.steps));
  } catch (error) {
    // The image did not come up: every scenario of it fails with the reason; other cells go on.
    for (const scenario of options.scenarios) record(notRun(scenario, `the image did not start: ${errorText(error)}`));
    return;
  }
  ctx.note(`${ctx.cell}: kernel ${lab.image.kernelPackage.name} ${lab.image.kernelPackage.version}; ${lab.vm.accelerator.accelerator} (${lab.vm.accelerator.reason})`);
  ctx.note(`${ctx.cell}: guest start: ${describeStart(lab.vm.startedFrom)}`);
  ctx.facts?.({ kernel: lab.image.kernelRelease, accelerator: lab.vm.accelerator.accelerator, guestStart: lab.vm.startedFrom.how });
  try {
    const since = await lab.markKernelLog();
    const booted = lab; // a const, for the closure below
    await runScenarios(lab, options.scenarios, record, {
      onStart: (scenario, index) => ctx.status(`scenario ${index + 1}/${options.scenarios.length}: ${scenario.id}`),
      guestGone: () => guestGone(booted, since),
    });
    ctx.note(`${ctx.cell}: module verdict: ${moduleVerdict(outcomes)}`);
    ctx.facts?.(moduleFacts(outcomes));
    if (options.keepOnFailure && !outcomes.every(scenarioPassed)) await keepForInspection(ctx, lab);
  } finally {
    // The console log is evidence; the session folder goes with the run.
    copyFileSync(lab.vm.console.path, join(ctx.outDir, `console-${ctx.cell}.log`));
    await lab.stop();
  }
}

/** The module's own row in the matrix: how it was fetched and built for this kernel. */
function moduleOutcome(steps: StepResult[], error?: string): ScenarioOutcome {
  return {
    scenario: 'toa-module',
    title: 'The TOA module under test is fetched and built for this kernel',
    checks: steps.map((s) => check(s.name, s.status === 'passed', 'passes', s.summary, s.evidence)),
    steps,
    durationMs: steps.reduce((sum, s) => sum + s.durationMs, 0),
    ...(error && { error }),
  };
}

/**
 * --keep-on-failure: the failed guest stays up, with the toa-lab guest agent
 * and the lab wire still attached, until Ctrl-C — which then tears everything
 * down as always, so even a kept VM never outlives the run.
 */
async function keepForInspection(ctx: CellContext, lab: MicroLab): Promise<void> {
  ctx.status('FAILED — VM kept for inspection; Ctrl-C stops it');
  ctx.say(
    `${ctx.cell} kept for inspection: serial console ${lab.vm.console.path}, ` +
      `guest agent socket ${lab.vm.dir}/agent.sock (lines: <id> <timeout-s> <base64 command>), QEMU pid ${lab.vm.qemu.pid}`,
  );
  await new Promise<never>(() => {}); // until the SIGINT/SIGTERM handler closes the session and exits
}
