import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mergeRuns, missingFromMerge, parseExpectation, unionPlan, writeMergedResults } from '../../../harness/report/merge-results.ts';
import { ResultsStore, type CellNotes } from '../../../harness/report/results-store.ts';
import type { RunPlan } from '../../../harness/runner/cell-plan.ts';
import { record } from './fixtures.ts';

const WHOLE: RunPlan = {
  planVersion: 1,
  cells: [
    { id: 'microvm-bookworm', image: 'microvm-bookworm', kind: 'micro', scenarios: ['a', 'b'] },
    { id: 'debian-12', image: 'debian-12', kind: 'full-os', scenarios: ['a', 'b'] },
  ],
};

/** A shard's folder as `toa-lab run` writes it: plan first, results, then the cell's notes. */
function shard(plan: RunPlan, results: Array<[string, string]>, notes: CellNotes[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), 'toa-lab-shard-'));
  const store = new ResultsStore(dir);
  store.appendPlan(plan);
  for (const [cell, scenario] of results) store.append(cell, record(cell, scenario).outcome);
  for (const n of notes) store.appendCell(n);
  return dir;
}

const half = (index: number): RunPlan => ({
  planVersion: 1,
  shard: { index, count: 2 },
  cells: WHOLE.cells.map((c) => ({ ...c, scenarios: [c.scenarios[index - 1]!] })),
});

describe('results.jsonl, format 2', () => {
  it('carries the plan and each cell\'s notes beside the results, and still reads format-1 files', () => {
    const dir = shard(half(1), [['microvm-bookworm', 'a']], [{ cell: 'microvm-bookworm', kernel: '6.1.0-9-amd64', accelerator: 'tcg', moduleVerdict: 'passed' }]);
    const run = ResultsStore.readRun(join(dir, 'results.jsonl'));
    expect(run.plan?.cells.map((c) => c.scenarios)).toEqual([['a'], ['a']]);
    expect(run.plan?.shard).toEqual({ index: 1, count: 2 });
    expect(run.cells).toEqual([{ cell: 'microvm-bookworm', kernel: '6.1.0-9-amd64', accelerator: 'tcg', moduleVerdict: 'passed' }]);
    expect(ResultsStore.read(join(dir, 'results.jsonl')).map((r) => r.outcome.scenario)).toEqual(['a']);

    const old = mkdtempSync(join(tmpdir(), 'toa-lab-v1-'));
    writeFileSync(join(old, 'results.jsonl'), `${JSON.stringify({ ...record('c', 'a'), formatVersion: 1 })}\n`);
    const merged = mergeRuns([old]);
    expect(merged.results.map((r) => r.cell)).toEqual(['c']);
    expect(merged.plans).toEqual([]);
  });
});

describe('report merge --expect', () => {
  it('passes when every shard of the plan reported everything, keeping each cell\'s notes', () => {
    const merged = mergeRuns([
      shard(half(1), [['microvm-bookworm', 'a'], ['debian-12', 'a']], [{ cell: 'debian-12', kernel: '6.1.0-56-amd64' }]),
      shard(half(2), [['microvm-bookworm', 'b'], ['debian-12', 'b']], [{ cell: 'debian-12', moduleVerdict: 'passed' }]),
    ]);
    expect(missingFromMerge(merged, { kind: 'plan', plan: WHOLE, source: 'plan.json' })).toEqual([]);
    expect(missingFromMerge(merged, { kind: 'cells', count: 2 })).toEqual([]);
    expect(merged.cells.get('debian-12')).toEqual({ cell: 'debian-12', kernel: '6.1.0-56-amd64', moduleVerdict: 'passed' });

    const out = mkdtempSync(join(tmpdir(), 'toa-lab-merged-'));
    writeMergedResults(join(out, 'results.jsonl'), merged, unionPlan(merged.plans));
    const again = ResultsStore.readRun(join(out, 'results.jsonl'));
    expect(again.cells).toContainEqual({ cell: 'debian-12', kernel: '6.1.0-56-amd64', moduleVerdict: 'passed' });
    expect(again.plan?.cells.map((c) => [c.id, c.scenarios])).toEqual([
      ['microvm-bookworm', ['a', 'b']],
      ['debian-12', ['a', 'b']],
    ]);
    expect(again.results).toHaveLength(4);
  });

  it('names the cells and scenarios of a shard whose results are absent', () => {
    const merged = mergeRuns([shard(half(1), [['microvm-bookworm', 'a'], ['debian-12', 'a']])]);
    expect(missingFromMerge(merged, { kind: 'plan', plan: WHOLE, source: 'plan.json' })).toEqual([
      'cell microvm-bookworm: no result for b',
      'cell debian-12: no result for b',
    ]);
    const oneCell = mergeRuns([shard({ planVersion: 1, cells: [WHOLE.cells[0]!] }, [['microvm-bookworm', 'a'], ['microvm-bookworm', 'b']])]);
    expect(missingFromMerge(oneCell, { kind: 'cells', count: 2 })).toEqual(['expected 2 cells, found 1: microvm-bookworm']);
    expect(missingFromMerge(oneCell, { kind: 'plan', plan: WHOLE, source: 'plan.json' })).toEqual(['cell debian-12: missing (2 scenarios planned, none reported)']);
  });

  it('catches a shard that wrote its plan and died, even without --expect; a folder without results is named', () => {
    const died = shard(half(2), [['microvm-bookworm', 'b']]);
    const empty = mkdtempSync(join(tmpdir(), 'toa-lab-empty-'));
    const merged = mergeRuns([shard(half(1), [['microvm-bookworm', 'a'], ['debian-12', 'a']]), died, empty], { allowMissing: true });
    expect(missingFromMerge(merged, undefined)).toEqual([`${empty}: no results.jsonl (a shard that never started or crashed?)`, 'cell debian-12: no result for b']);
  });

  it('reads a plan file or a cell count, and refuses anything else', () => {
    const dir = mkdtempSync(join(tmpdir(), 'toa-lab-plan-'));
    writeFileSync(join(dir, 'plan.json'), JSON.stringify({ ...WHOLE, jobs: [] }));
    expect(parseExpectation(join(dir, 'plan.json'))).toMatchObject({ kind: 'plan', plan: { cells: WHOLE.cells } });
    expect(parseExpectation('4')).toEqual({ kind: 'cells', count: 4 });
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ include: [{ image: 'x' }] }));
    expect(() => parseExpectation(join(dir, 'bad.json'))).toThrow(/has no plan/);
    expect(() => parseExpectation(join(dir, 'nope.json'))).toThrow(/neither a cell count nor a plan file/);
  });
});
