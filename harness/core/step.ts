import type { CommandResult } from '../exec/command-result.ts';

/**
 * One step of a guide's procedure (install toolchain, make, insmod, set the
 * VIP, reboot...), reported on its own: its duration, every command it ran
 * with that command's output, and a one-line summary. A failed step carries
 * its evidence (compiler errors, dmesg) so the verdict explains itself.
 */
export interface StepResult {
  name: string;
  /** What part of the procedure this step is: verdicts and report rows branch on it, never on `name`. */
  kind?: StepKind;
  status: 'passed' | 'failed' | 'skipped';
  durationMs: number;
  summary: string;
  commands: CommandResult[];
  /** Anything else the step looked at (a file's content, a dmesg excerpt). */
  evidence?: string;
}

/**
 * The parts of a procedure, in the guides' order. A failed step's kind says where a
 * module stopped: fetch/toolchain/push/build → "did not build", load → "did not load",
 * boot/provision → the image, not the module. `reboot` and everything after it is
 * the persistence row's evidence.
 */
export type StepKind =
  | 'fetch'
  | 'boot'
  | 'provision'
  | 'detect-os'
  | 'toolchain'
  | 'push'
  | 'build'
  | 'load'
  | 'autoload'
  | 'vip'
  | 'lab'
  | 'reboot'
  /** A new kernel installed from the package manager's pockets (the kernel-upgrade case): the image's side, like the toolchain. */
  | 'kernel-upgrade'
  | 'after-reboot'
  | 'backend'
  | 'data-path-setup';

/** What a step's body gets: a way to record the commands it runs and extra evidence. */
export interface StepRecorder {
  record(result: CommandResult): CommandResult;
  evidence(text: string): void;
}

/** Thrown by a step body to fail with a clear one-line summary (the recorded commands stay). */
export class StepFailure extends Error {
  override readonly name = 'StepFailure';
}

export class StepSkipped extends Error {
  override readonly name = 'StepSkipped';
}

/** Runs `body` as a step; never throws — a thrown error becomes a failed (or skipped) StepResult. */
export async function runStep(name: string, body: (step: StepRecorder) => Promise<string>, kind?: StepKind): Promise<StepResult> {
  const started = Date.now();
  const commands: CommandResult[] = [];
  const evidence: string[] = [];
  const recorder: StepRecorder = {
    record(result) {
      commands.push(result);
      return result;
    },
    evidence(text) {
      evidence.push(text);
    },
  };
  const finish = (status: StepResult['status'], summary: string): StepResult => ({
    name,
    ...(kind && { kind }),
    status,
    durationMs: Date.now() - started,
    summary,
    commands,
    ...(evidence.length && { evidence: evidence.join('\n') }),
  });
  try {
    return finish('passed', await body(recorder));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return finish(error instanceof StepSkipped ? 'skipped' : 'failed', message);
  }
}
