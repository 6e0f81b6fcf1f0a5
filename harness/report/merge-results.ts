import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pairKey, type PlannedCell, type RunPlan } from '../core/plan.ts';
import { UsageError } from '../core/usage-error.ts';
import { toaLabVersion } from '../version.ts';
import {
  mergeCellNotes,
  READABLE_FORMAT_VERSIONS,
  RESULTS_FORMAT_VERSION,
  ResultsStore,
  type CellNotes,
  type CellNotesRecord,
  type PlanRecord,
  type ResultRecord,
} from './results-store.ts';

/**
 * Merges the results of several runs (CI shards) into one set. Refuses
 * records from another toa-lab version or an unreadable results format,
 * saying which file and which version, and refuses a cell × scenario reported twice.
 */
export function mergeResultDirs(dirs: readonly string[]): ResultRecord[] {
  return mergeRuns(dirs).results;
}

export interface MergedRuns {
  results: ResultRecord[];
  /** Each cell's notes, joined over the shards that ran part of it. */
  cells: Map<string, CellNotes>;
  /** The plans the shards wrote (format 1 runs wrote none). */
  plans: PlanRecord[];
  /** Folders that hold no results.jsonl (only tolerated with `allowMissing`: --expect then names what is lost). */
  withoutResults: string[];
}

export function mergeRuns(dirs: readonly string[], options: { allowMissing?: boolean } = {}): MergedRuns {
  const merged: MergedRuns = { results: [], cells: new Map(), plans: [], withoutResults: [] };
  const notes: CellNotes[] = [];
  const seenIn = new Map<string, string>();
  for (const dir of dirs) {
    if (options.allowMissing && !hasResults(dir)) {
      merged.withoutResults.push(dir);
      continue;
    }
    const path = resultsFile(dir);
    const run = ResultsStore.readRun(path);
    run.results.forEach((record, index) => {
      const where = `${path}:${index + 1}`;
      if (!READABLE_FORMAT_VERSIONS.includes(record.formatVersion) || record.toaLabVersion !== toaLabVersion()) {
        throw new Error(
          `${where} was written by toa-lab ${record.toaLabVersion ?? 'unknown'} (results format ${record.formatVersion}); ` +
            `this is toa-lab ${toaLabVersion()} (results format ${RESULTS_FORMAT_VERSION}): merge shards from one version`,
        );
      }
      const key = pairKey(record.cell, record.outcome.scenario);
      const earlier = seenIn.get(key);
      if (earlier) throw new Error(`${key} is reported twice: in ${earlier} and in ${where} (overlapping shards?)`);
      seenIn.set(key, where);
      merged.results.push(record);
    });
    notes.push(...run.cells);
    if (run.plan) merged.plans.push(run.plan);
  }
  merged.cells = mergeCellNotes(notes);
  return merged;
}

/** What a merge must find: the whole run's plan, or just how many cells. */
export type Expectation = { kind: 'plan'; plan: RunPlan; source: string } | { kind: 'cells'; count: number };

/** `--expect PLAN`: a plan JSON file (`toa-lab list --json`, `toa-lab matrix --format json`) or a cell count. */
export function parseExpectation(arg: string): Expectation {
  if (/^\d+$/.test(arg)) return { kind: 'cells', count: Number(arg) };
  if (!existsSync(arg)) throw new UsageError(`--expect: ${arg} is neither a cell count nor a plan file`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(arg, 'utf8'));
  } catch (error) {
    throw new UsageError(`--expect: ${arg} is not JSON (${(error as Error).message})`);
  }
  const cells = (parsed as { cells?: unknown }).cells;
  const valid = (c: unknown): c is PlannedCell =>
    typeof (c as PlannedCell).id === 'string' && Array.isArray((c as PlannedCell).scenarios) && (c as PlannedCell).scenarios.every((s) => typeof s === 'string');
  if (!Array.isArray(cells) || !cells.every(valid)) {
    throw new UsageError(`--expect: ${arg} has no plan ({"cells":[{"id":…,"scenarios":[…]}]}, as 'toa-lab list --json' prints)`);
  }
  return { kind: 'plan', plan: parsed as RunPlan, source: arg };
}

/**
 * What the merge lacks, one line each (empty: complete). Checked against the
 * expectation and against every shard's own plan, so a shard that wrote its
 * plan and then died is caught even with a bare cell count.
 */
export function missingFromMerge(merged: MergedRuns, expectation: Expectation | undefined): string[] {
  const reported = new Set(merged.results.map((r) => pairKey(r.cell, r.outcome.scenario)));
  const problems: string[] = merged.withoutResults.map((dir) => `${dir}: no results.jsonl (a shard that never started or crashed?)`);
  const planned = [...merged.plans.flatMap((p) => p.cells), ...(expectation?.kind === 'plan' ? expectation.plan.cells : [])];
  const missing = new Map<string, Set<string>>();
  for (const cell of planned) {
    for (const scenario of cell.scenarios) {
      if (reported.has(pairKey(cell.id, scenario))) continue;
      const set = missing.get(cell.id) ?? new Set<string>();
      set.add(scenario);
      missing.set(cell.id, set);
    }
  }
  const cellsReported = new Set(merged.results.map((r) => r.cell));
  for (const [cell, scenarios] of missing) {
    problems.push(cellsReported.has(cell) ? `cell ${cell}: no result for ${[...scenarios].join(', ')}` : `cell ${cell}: missing (${scenarios.size} scenarios planned, none reported)`);
  }
  if (expectation?.kind === 'cells' && cellsReported.size < expectation.count) {
    problems.push(`expected ${expectation.count} cells, found ${cellsReported.size}: ${[...cellsReported].join(', ') || 'none'}`);
  }
  return problems;
}

/** The merged results.jsonl: one plan (what was expected), each cell's notes, then the results. */
export function writeMergedResults(path: string, merged: MergedRuns, plan: RunPlan | undefined): void {
  const version = { formatVersion: RESULTS_FORMAT_VERSION, toaLabVersion: toaLabVersion() };
  const lines: unknown[] = [];
  if (plan) lines.push({ kind: 'plan', ...version, createdAt: new Date().toISOString(), planVersion: 1, cells: plan.cells } satisfies PlanRecord);
  for (const notes of merged.cells.values()) lines.push({ kind: 'cell', ...version, ...notes } satisfies CellNotesRecord);
  lines.push(...merged.results);
  writeFileSync(path, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
}

/** The union of the shards' plans, cell by cell, scenarios in first-seen order. */
export function unionPlan(plans: readonly RunPlan[]): RunPlan | undefined {
  if (plans.length === 0) return undefined;
  const cells = new Map<string, PlannedCell>();
  for (const cell of plans.flatMap((p) => p.cells)) {
    const known = cells.get(cell.id);
    if (known) known.scenarios = [...new Set([...known.scenarios, ...cell.scenarios])];
    else cells.set(cell.id, { ...cell, scenarios: [...cell.scenarios] });
  }
  return { planVersion: 1, cells: [...cells.values()] };
}

function hasResults(dirOrFile: string): boolean {
  return existsSync(dirOrFile.endsWith('.jsonl') ? dirOrFile : join(dirOrFile, 'results.jsonl'));
}

/** A run's folder, or its results.jsonl directly. */
export function resultsFile(dirOrFile: string): string {
  const path = dirOrFile.endsWith('.jsonl') ? dirOrFile : join(dirOrFile, 'results.jsonl');
  if (!existsSync(path)) throw new Error(`no results at ${path} (expected a toa-lab run folder)`);
  return path;
}
