/**
 * The test command's suites before and after a change, side by side: every e2e file that
 * exists in both trees runs once per tree per round, the two trees interleaved file by file
 * (the baseline first in even rounds), so both see the same machine and the same load. The
 * typecheck and unit project run once per tree too. Prints each file's wall time per tree,
 * the totals, and the ratio after/before; and, since a file may hold more tests now than
 * before (more kernels, more scenarios), the tests both trees have by their full name: their
 * own durations summed, before and after — the same work measured twice.
 *
 *   BENCH_SUITES_BASELINE=/tmp/before/main npx tsx bench/suites-before-after.ts
 *   BENCH_SUITES_ROUNDS=2 BENCH_SUITES_FILES=toa-data-path,load ...   # narrow / repeat
 *
 * Not part of `npm run bench`: it takes two test commands' time. Both trees need their
 * dependencies installed (`npm ci`) and a warm artefact cache, or the first file to build an
 * image pays for it (run it once before measuring).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { median } from './median.ts';

const HERE = join(import.meta.dirname, '..');

export interface SuiteRun {
  seconds: number;
  passed: boolean;
  /** Per test (vitest's full name), its own duration in seconds: e2e files only. */
  tests: Record<string, number>;
}

/** The e2e files both trees have, by file name (a suite that exists today in both). */
export function commonE2eFiles(before: string, after: string): string[] {
  const list = (tree: string): string[] => readdirSync(join(tree, 'test', 'e2e')).filter((f) => f.endsWith('.test.ts'));
  const theirs = new Set(list(before));
  return list(after).filter((f) => theirs.has(f)).sort();
}

function timed(tree: string, args: readonly string[], perTest: boolean): SuiteRun {
  const folder = mkdtempSync(join(tmpdir(), 'toa-lab-suites-'));
  const json = join(folder, 'results.json');
  try {
    const started = performance.now();
    const reporter = perTest ? ['--reporter=json', `--outputFile=${json}`] : [];
    const result = spawnSync('npx', [...args, ...reporter], { cwd: tree, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
    const seconds = (performance.now() - started) / 1000;
    return { seconds, passed: result.status === 0, tests: perTest && existsSync(json) ? testDurations(readFileSync(json, 'utf8')) : {} };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/** vitest's JSON report (jest's shape): every test's full name and duration. */
export function testDurations(report: string): Record<string, number> {
  type Report = { testResults?: Array<{ assertionResults?: Array<{ fullName: string; duration?: number | null }> }> };
  const tests: Record<string, number> = {};
  for (const file of (JSON.parse(report) as Report).testResults ?? []) {
    for (const test of file.assertionResults ?? []) tests[test.fullName] = (test.duration ?? 0) / 1000;
  }
  return tests;
}

export function measureSuites(options: { baseline: string; rounds: number; only?: string[] }): Map<string, { before: SuiteRun[]; after: SuiteRun[] }> {
  if (!existsSync(join(options.baseline, 'node_modules'))) throw new Error(`${options.baseline}: run npm ci there first`);
  const files = commonE2eFiles(options.baseline, HERE).filter((f) => !options.only || options.only.some((o) => f.startsWith(o)));
  const suites: Array<[string, readonly string[], boolean]> = [
    ['typecheck', ['tsc', '--noEmit'], false],
    ['unit project', ['vitest', 'run', '--project', 'unit'], false],
    ...files.map((f): [string, readonly string[], boolean] => [f, ['vitest', 'run', '--project', 'e2e', `test/e2e/${f}`], true]),
  ];
  const figures = new Map(suites.map(([name]) => [name, { before: [] as SuiteRun[], after: [] as SuiteRun[] }]));
  for (let round = 0; round < options.rounds; round++) {
    for (const [name, args, perTest] of suites) {
      const order = round % 2 === 0 ? (['before', 'after'] as const) : (['after', 'before'] as const);
      for (const side of order) {
        const run = timed(side === 'before' ? options.baseline : HERE, args, perTest);
        figures.get(name)![side].push(run);
        console.log(`  ${name} [${side}] ${run.seconds.toFixed(1)} s${run.passed ? '' : ' FAILED'}`);
      }
    }
  }
  return figures;
}

export function describeSuites(figures: ReadonlyMap<string, { before: SuiteRun[]; after: SuiteRun[] }>): string[] {
  const lines = ['| suite | before, s | after, s | after / before |', '|---|---|---|---|'];
  let before = 0;
  let after = 0;
  for (const [name, runs] of figures) {
    const b = median(runs.before.map((r) => r.seconds));
    const a = median(runs.after.map((r) => r.seconds));
    before += b;
    after += a;
    const failed = (rs: SuiteRun[]): string => (rs.every((r) => r.passed) ? '' : ' (FAILED)');
    lines.push(`| ${name} | ${b.toFixed(1)}${failed(runs.before)} | ${a.toFixed(1)}${failed(runs.after)} | ×${(a / b).toFixed(2)} |`);
  }
  lines.push(`| **all of them** | **${before.toFixed(0)}** | **${after.toFixed(0)}** | **×${(after / before).toFixed(2)}** |`);

  // The same tests in both trees, by full name: their own durations (a file's boot in beforeAll is not in them).
  lines.push('', '| e2e file: tests in both trees | tests | before, s | after, s | after / before | tests only after, s |', '|---|---|---|---|---|---|');
  for (const [name, runs] of figures) {
    const first = (rs: SuiteRun[]): Record<string, number> => rs[0]?.tests ?? {};
    const shared = Object.keys(first(runs.after)).filter((t) => t in first(runs.before));
    if (shared.length === 0) continue;
    const sum = (rs: SuiteRun[], names: readonly string[]): number => median(rs.map((r) => names.reduce((total, t) => total + (r.tests[t] ?? 0), 0)));
    const b = sum(runs.before, shared);
    const a = sum(runs.after, shared);
    const added = Object.keys(first(runs.after)).filter((t) => !(t in first(runs.before)));
    lines.push(`| ${name} | ${shared.length} | ${b.toFixed(1)} | ${a.toFixed(1)} | ×${(a / b).toFixed(2)} | ${added.length ? `${sum(runs.after, added).toFixed(1)} (${added.length} tests)` : '—'} |`);
  }
  return lines;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const baseline = process.env.BENCH_SUITES_BASELINE;
  if (!baseline) {
    console.error('BENCH_SUITES_BASELINE: the checkout to compare with (e.g. a clone at the commit before the change)');
    process.exit(2);
  }
  const figures = measureSuites({
    baseline,
    rounds: Number(process.env.BENCH_SUITES_ROUNDS ?? 1),
    ...(process.env.BENCH_SUITES_FILES && { only: process.env.BENCH_SUITES_FILES.split(',') }),
  });
  console.log(describeSuites(figures).join('\n'));
}
