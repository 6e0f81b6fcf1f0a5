import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunPlan } from '../core/plan.ts';
import type { ScenarioOutcome } from '../core/scenario.ts';
import { toaLabVersion } from '../version.ts';

/**
 * results.jsonl: one JSON line per finished scenario, appended and flushed the
 * moment it finishes, so a crash or Ctrl-C keeps everything that finished.
 * Besides the results, a run writes (format 2):
 * - a `plan` line first: the cells and scenarios it meant to execute, so a
 *   merge can tell a shard that died from one that had nothing to do;
 * - a `cell` line when a cell ends: its kernel, accelerator, provider, module
 *   verdict and console log, so merged reports keep them.
 * Lines without `kind` are results (format 1 files have only those).
 */
export const RESULTS_FORMAT_VERSION = 2;
export type { PlannedCell, RunPlan } from '../core/plan.ts';
/** Formats this version reads and merges: format 1 is format 2 without plan and cell lines. */
export const READABLE_FORMAT_VERSIONS: readonly number[] = [1, 2];

export interface ResultRecord {
  kind?: 'result';
  formatVersion: number;
  /** The toa-lab version that produced the record (package.json). */
  toaLabVersion: string;
  cell: string;
  finishedAt: string;
  outcome: ScenarioOutcome;
}

/** What the run learnt about one cell: every field is optional, since a cell may end before it knows. */
export interface CellNotes {
  cell: string;
  image?: string;
  /** `uname -r` of the guest (or the kernel package, when the release is not known). */
  kernel?: string;
  accelerator?: string;
  provider?: string;
  /** How the cell's guest reads TOA: a kernel module (`module` names it) or eBPF (`--toa-bpf`): the mechanisms table's TOA rows. */
  toa?: 'module' | 'bpf';
  /** The module under test's name (module-spec.ts): a row of the module × kernel compatibility table. */
  module?: string;
  /** One word for a vendor's module (did not build, did not load, …, passed). */
  moduleVerdict?: string;
  /** The verdict's evidence in the tool's own words: the compiler's first error, the kernel's line. */
  moduleWords?: string;
  /** The verdict as a typed field (the compatibility table's mark): not-tested when the image, not the module, stopped. */
  moduleStatus?: 'passed' | 'failed' | 'not-tested';
  /** The serial console log's file name, relative to the run folder. */
  consoleLog?: string;
  /** Micro-VMs: 'booted', or 'restored' from a saved guest (TOA_LAB_COLD_BOOT=1 forces booted). */
  guestStart?: string;
}

export interface CellNotesRecord extends CellNotes {
  kind: 'cell';
  formatVersion: number;
  toaLabVersion: string;
}

export interface PlanRecord extends RunPlan {
  kind: 'plan';
  formatVersion: number;
  toaLabVersion: string;
  createdAt: string;
}

/** Everything one results.jsonl holds. */
export interface RunRecords {
  plan?: PlanRecord;
  cells: CellNotes[];
  results: ResultRecord[];
}

export class ResultsStore {
  readonly path: string;

  /** A new run's store: an earlier run's results in the same folder are replaced, never mixed in. */
  constructor(outDir: string) {
    mkdirSync(outDir, { recursive: true });
    this.path = join(outDir, 'results.jsonl');
    writeFileSync(this.path, '');
  }

  append(cell: string, outcome: ScenarioOutcome): void {
    const record: ResultRecord = {
      formatVersion: RESULTS_FORMAT_VERSION,
      toaLabVersion: toaLabVersion(),
      cell,
      finishedAt: new Date().toISOString(),
      outcome,
    };
    appendFileSync(this.path, JSON.stringify(record) + '\n');
  }

  appendPlan(plan: RunPlan): void {
    const record: PlanRecord = {
      kind: 'plan',
      formatVersion: RESULTS_FORMAT_VERSION,
      toaLabVersion: toaLabVersion(),
      createdAt: new Date().toISOString(),
      ...plan,
    };
    appendFileSync(this.path, JSON.stringify(record) + '\n');
  }

  appendCell(notes: CellNotes): void {
    const record: CellNotesRecord = { kind: 'cell', formatVersion: RESULTS_FORMAT_VERSION, toaLabVersion: toaLabVersion(), ...notes };
    appendFileSync(this.path, JSON.stringify(record) + '\n');
  }

  /** The scenario results only (what most readers want). */
  static read(path: string): ResultRecord[] {
    return ResultsStore.readRun(path).results;
  }

  static readRun(path: string): RunRecords {
    const run: RunRecords = { cells: [], results: [] };
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (!line) continue;
      const parsed = JSON.parse(line) as ResultRecord | CellNotesRecord | PlanRecord;
      if (parsed.kind === 'plan') run.plan = parsed;
      else if (parsed.kind === 'cell') run.cells.push(withoutRecordFields(parsed));
      else run.results.push(parsed);
    }
    return run;
  }
}

function withoutRecordFields(record: CellNotesRecord): CellNotes {
  const { kind: _kind, formatVersion: _format, toaLabVersion: _version, ...notes } = record;
  return notes;
}

/** Later notes for a cell fill in or replace earlier ones (a shard knows what another did not). */
export function mergeCellNotes(notes: readonly CellNotes[]): Map<string, CellNotes> {
  const byCell = new Map<string, CellNotes>();
  for (const n of notes) byCell.set(n.cell, { ...byCell.get(n.cell), ...n });
  return byCell;
}
