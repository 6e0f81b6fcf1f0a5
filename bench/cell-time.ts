/**
 * What one kernel cell costs: `toa-lab run --image CELL --parallel 1` per micro-VM cell of
 * the default lab (boot + every data-path scenario), wall time and the scenarios' own
 * durations from results.jsonl, the slowest scenarios named. With BENCH_CELL_BASELINE set
 * to another checkout (e.g. /work/main), each cell runs there too, interleaved with this
 * tree's run, so before and after are measured side by side under the same load.
 *
 *   npx tsx bench/cell-time.ts                                   # every micro-VM cell, 1 round
 *   BENCH_CELLS=microvm-bookworm,microvm-trixie-backports-7.2 BENCH_CELL_ROUNDS=3 \
 *   BENCH_CELL_BASELINE=/work/main npx tsx bench/cell-time.ts
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { median } from './median.ts';

const HERE = join(import.meta.dirname, '..');

export interface CellRun {
  wallSeconds: number;
  scenarioSeconds: number;
  /** Per scenario, seconds. */
  scenarios: Record<string, number>;
  passed: boolean;
  /** Scenarios with a failing check (their first failing check), so a FAILED run says why. */
  failures: string[];
}

export interface CellFigures {
  cell: string;
  /** Keyed by tree ("this", or the baseline's path): every round's run. */
  runs: Record<string, CellRun[]>;
}

function microVmCells(tree: string): string[] {
  const listed = spawnSync(process.execPath, [join(tree, 'bin', 'toa-lab.js'), 'list', '--json'], { encoding: 'utf8' });
  if (listed.status !== 0) throw new Error(`toa-lab list failed: ${listed.stderr}`);
  const cells = JSON.parse(listed.stdout) as { cells?: Array<{ id: string; kind: string }> } | Array<{ id: string; kind: string }>;
  return (Array.isArray(cells) ? cells : cells.cells ?? []).filter((c) => c.kind === 'micro').map((c) => c.id);
}

/** One cell through the CLI, as a user runs it; scenario times from the run's own results. */
export function runCell(tree: string, cell: string): CellRun {
  const out = mkdtempSync(join(tmpdir(), 'toa-lab-cell-'));
  try {
    const started = performance.now();
    const result = spawnSync(process.execPath, [join(tree, 'bin', 'toa-lab.js'), 'run', '--image', cell, '--parallel', '1', '--out', out], { encoding: 'utf8' });
    const wallSeconds = (performance.now() - started) / 1000;
    if (result.status !== 0 && result.status !== 1) throw new Error(`run ${cell} in ${tree} failed (${result.status}):\n${result.stdout.slice(-2000)}${result.stderr}`);
    const scenarios: Record<string, number> = {};
    const failures: string[] = [];
    for (const line of readFileSync(join(out, 'results.jsonl'), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      type Outcome = { scenario: string; durationMs: number; checks?: Array<{ name: string; passed: boolean; informational?: boolean; observed?: string }> };
      const record = JSON.parse(line) as { outcome?: Outcome };
      if (!record.outcome) continue;
      scenarios[record.outcome.scenario] = record.outcome.durationMs / 1000;
      // A finding (informational) that is not benign is reported, never a failure.
      const failed = record.outcome.checks?.find((c) => !c.passed && !c.informational);
      if (failed) failures.push(`${record.outcome.scenario}: ${failed.name} (${failed.observed ?? ''})`);
    }
    const scenarioSeconds = Object.values(scenarios).reduce((a, b) => a + b, 0);
    return { wallSeconds, scenarioSeconds, scenarios, passed: result.status === 0, failures };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

export function measureCells(options: { cells?: string[]; rounds?: number; baseline?: string } = {}): CellFigures[] {
  const cells = options.cells ?? microVmCells(HERE);
  const trees = options.baseline ? [options.baseline, HERE] : [HERE];
  const figures: CellFigures[] = cells.map((cell) => ({ cell, runs: {} }));
  for (let round = 0; round < (options.rounds ?? 1); round++) {
    for (const figure of figures) {
      // Baseline first in even rounds, this tree first in odd ones: neither always gets the quieter slot.
      const order = round % 2 === 0 ? trees : [...trees].reverse();
      for (const tree of order) {
        const key = tree === HERE ? 'this' : tree;
        (figure.runs[key] ??= []).push(runCell(tree, figure.cell));
      }
    }
  }
  return figures;
}

/**
 * The 14 data-path scenarios of issue 13's goal ("boot + today's 14 data-path scenarios ≤ 45 s"):
 * the set when the goal was written (f144386). Scenarios added since state their own cost.
 */
export const GOAL_SCENARIOS: readonly string[] = [
  'fullnat-toa-v4', 'fullnat-no-toa', 'fullnat-toa-v6', 'dsr-vip', 'toa-kind-filter', 'bulk-transfer', 'first-data-fin',
  'defer-accept', 'malformed-options', 'spoofed-toa', 'rmmod-open-connections', 'rmmod-under-load', 'udp', 'load',
];

/** The cell as the goal counts it: its wall time less the scenarios added since the goal was set. */
export function goalCellSeconds(run: CellRun): number {
  const added = Object.entries(run.scenarios).filter(([name]) => !GOAL_SCENARIOS.includes(name));
  return run.wallSeconds - added.reduce((sum, [, seconds]) => sum + seconds, 0);
}

/** Lines for a report: per cell and tree, median wall and scenario time, and the three slowest scenarios. */
export function describeCells(figures: readonly CellFigures[]): string[] {
  const lines: string[] = [];
  for (const { cell, runs } of figures) {
    for (const [tree, measured] of Object.entries(runs)) {
      const wall = median(measured.map((r) => r.wallSeconds));
      const scenarios = median(measured.map((r) => r.scenarioSeconds));
      const names = Object.keys(measured[0]?.scenarios ?? {});
      const slowest = names
        .map((name) => [name, median(measured.map((r) => r.scenarios[name] ?? 0))] as const)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 3)
        .map(([name, s]) => `${name} ${s.toFixed(1)}`)
        .join(', ');
      const each = measured.map((r) => `${r.wallSeconds.toFixed(1)}${r.passed ? '' : ' FAILED'}`).join(', ');
      lines.push(`  ${cell} [${tree}]`.padEnd(58) + `cell ${wall.toFixed(1)} s (runs ${each}); scenarios ${scenarios.toFixed(1)} s; slowest: ${slowest}`);
      const added = names.filter((name) => !GOAL_SCENARIOS.includes(name));
      lines.push(
        `    boot + the goal's 14 scenarios ${median(measured.map(goalCellSeconds)).toFixed(1)} s (goal ≤ 45 s where the first verdict is ~5 s)` +
          (added.length ? `; added since: ${added.map((name) => `${name} ${median(measured.map((r) => r.scenarios[name] ?? 0)).toFixed(1)}`).join(', ')}` : ''),
      );
      for (const failure of measured.flatMap((r) => r.failures)) lines.push(`    failed: ${failure}`);
    }
  }
  return lines;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const figures = measureCells({
    ...(process.env.BENCH_CELLS && { cells: process.env.BENCH_CELLS.split(',') }),
    rounds: Number(process.env.BENCH_CELL_ROUNDS ?? 1),
    ...(process.env.BENCH_CELL_BASELINE && { baseline: process.env.BENCH_CELL_BASELINE }),
  });
  console.log(describeCells(figures).join('\n'));
}
