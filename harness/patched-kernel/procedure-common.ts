import { runStep, type StepRecorder, type StepResult } from '../core/step.ts';
import { ensurePatchedKernel, KernelBuildError, refreshToaModule, type PatchedKernel } from './kernel-cache.ts';

/**
 * What every install target of the patched-kernel procedure shares (procedure.ts:
 * the CentOS 6 layout on a busybox disk; debian12-procedure.ts: the lab's Debian 12
 * image): steps 1–5 from the kernel cache, and the rule that steps run in order and
 * the first failure skips the rest (they would only fail for its reason).
 */
export const NOHZ_OFF = 'nohz=off';

export interface PreparedKernel {
  kernel: PatchedKernel;
  /** toa.ko as refreshToaModule left it (in-tree, up to date with native/toa/toa.c). */
  toaModule: string;
}

/**
 * Steps 1–5d: the cached build's steps (marked as such), then toa.ko brought up to
 * date. Pushes them onto `steps`; null when something failed (the steps say what).
 */
export async function prepareKernel(
  options: { toaKind: number; extraversion: string; log: (line: string) => void },
  steps: StepResult[],
): Promise<(PreparedKernel & { kernelMs: number }) | null> {
  const started = Date.now();
  let kernel: PatchedKernel;
  try {
    kernel = await ensurePatchedKernel(options);
  } catch (error) {
    if (error instanceof KernelBuildError) steps.push(...error.outcome.steps);
    else steps.push({ name: '1–5. build the patched kernel', status: 'failed', durationMs: Date.now() - started, summary: String(error), commands: [] });
    return null;
  }
  const kernelMs = Date.now() - started;
  steps.push(
    ...(kernel.built
      ? kernel.buildSteps
      : kernel.buildSteps.map((s) => ({ ...s, summary: `[cached build of ${kernel.builtAt}] ${s.summary}` }))),
  );
  const refreshed = await refreshToaModule(kernel);
  steps.push(refreshed.step);
  return refreshed.step.status === 'passed' ? { kernel, toaModule: refreshed.module, kernelMs } : null;
}

export type StepRunner = (name: string, body: (rec: StepRecorder) => Promise<string>) => Promise<boolean>;

/** Runs steps in order onto `steps`; once one has failed, the rest are recorded as skipped. */
export function stepSequence(steps: StepResult[], log: (line: string) => void): StepRunner {
  return async (name, body) => {
    if (steps.some((s) => s.status !== 'passed')) {
      steps.push({ name, status: 'skipped', durationMs: 0, summary: 'an earlier step failed', commands: [] });
      return false;
    }
    log(`step ${name}`);
    const result = await runStep(name, body);
    log(`  ${result.status}: ${result.summary} (${(result.durationMs / 1000).toFixed(1)} s)`);
    steps.push(result);
    return result.status === 'passed';
  };
}
