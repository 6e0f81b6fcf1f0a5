import type { RunSession } from '../lifecycle/run-session.ts';
import type { ScenarioOutcome } from '../core/scenario.ts';

/**
 * What one matrix cell (one image) needs from the run around it: a session
 * for its VM, a place to say things, a one-line status, and where its
 * outcomes go (the results file, the TAP stream, the report's notes).
 */
export interface CellContext {
  cell: string;
  session: RunSession;
  outDir: string;
  say(line: string): void;
  status(text: string): void;
  /** A line worth keeping that is also the current status (said once, whatever the output). */
  progress(line: string): void;
  record(outcome: ScenarioOutcome): void;
  note(text: string): void;
  /** What the cell learnt about itself (kernel, accelerator, module verdict): kept in results.jsonl for every report. */
  facts?(learnt: Partial<CellFacts>): void;
}

/** Typed cell facts: reports and JUnit properties read these, never the display text of notes. */
export interface CellFacts {
  kernel: string;
  accelerator: string;
  moduleVerdict: string;
  /** The compiler's first error, insmod's or the kernel's own line behind the verdict (report: the compatibility table). */
  moduleWords: string;
  /** The verdict as a typed field: not-tested when the image, not the module, stopped the cell. */
  moduleStatus: ModuleStatus;
  /** Micro-VMs: 'booted' or 'restored' (from a saved guest: harness/vm/micro-vm-snapshot.ts). */
  guestStart: 'booted' | 'restored';
}

export type ModuleStatus = 'passed' | 'failed' | 'not-tested';

/** An outcome for a scenario that could not run because its image or module could not be had. */
export function notRun(scenario: { id: string; title: string }, reason: string): ScenarioOutcome {
  return { scenario: scenario.id, title: scenario.title, checks: [], durationMs: 0, error: reason, failure: 'not-run' };
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
