/**
 * Where a whole OS's cell spends its time (issue 13, full OS): `toa-lab run --image debian-12`
 * (the guide's procedure, its reboot, then every data-path scenario), read back from the
 * run's own results.jsonl: each procedure step with its duration, the slowest lines of the
 * slowest steps' scripts (the measured reason: the run is traced, TOA_LAB_STEP_TRACE=1,
 * harness/lab/step-trace.ts), and each scenario's time.
 *
 *   npx tsx bench/full-os-steps.ts                 # debian-12, every scenario
 *   BENCH_FULL_OS_IMAGE=debian-12 BENCH_FULL_OS_SCENARIOS=guide-procedure,reboot-persistence npx tsx bench/full-os-steps.ts
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ScenarioOutcome } from '../harness/core/scenario.ts';
import { slowestLines, STEP_TRACE_ENV } from '../harness/lab/step-trace.ts';

const HERE = join(import.meta.dirname, '..');

export interface FullOsFigures {
  image: string;
  wallSeconds: number;
  passed: boolean;
  outcomes: ScenarioOutcome[];
}

export function measureFullOs(options: { image?: string; scenarios?: string[] } = {}): FullOsFigures {
  const image = options.image ?? 'debian-12';
  const out = mkdtempSync(join(tmpdir(), 'toa-lab-full-os-'));
  try {
    const args = [join(HERE, 'bin', 'toa-lab.js'), 'run', '--image', image, '--out', out, ...(options.scenarios ? ['--scenario', options.scenarios.join(',')] : [])];
    const started = performance.now();
    const result = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, [STEP_TRACE_ENV]: '1' } });
    const wallSeconds = (performance.now() - started) / 1000;
    if (result.status !== 0 && result.status !== 1) throw new Error(`run ${image} failed (${result.status}):\n${result.stdout.slice(-2000)}${result.stderr}`);
    const outcomes = readFileSync(join(out, 'results.jsonl'), 'utf8')
      .split('\n')
      .filter((line) => line.trim())
      .map((line) => JSON.parse(line) as { outcome?: ScenarioOutcome })
      .flatMap((record) => (record.outcome ? [record.outcome] : []));
    return { image, wallSeconds, passed: result.status === 0, outcomes };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const s = (ms: number): string => (ms / 1000).toFixed(1);

/** Step by step (each once: a reboot's steps are also the persistence scenario's), then scenario by scenario; where the slow steps' time went. */
export function describeFullOs(figures: FullOsFigures): string[] {
  const lines = [`whole OS ${figures.image}: cell ${figures.wallSeconds.toFixed(1)} s${figures.passed ? '' : ' (FAILED: see the run)'}`];
  const seen = new Set<string>();
  for (const outcome of figures.outcomes) {
    const fresh = (outcome.steps ?? []).filter((step) => {
      const key = JSON.stringify([step.name, step.durationMs, step.summary]);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    for (const step of fresh) {
      lines.push(`  step ${step.name} [${step.kind ?? '-'}, ${outcome.scenario}]`.padEnd(90) + `${s(step.durationMs)} s ${step.status}`);
      if (step.durationMs >= SLOW_STEP_MS) lines.push(`    ${whereItWent(step)}`);
    }
    if (!outcome.steps?.length) lines.push(`  scenario ${outcome.scenario}`.padEnd(90) + `${s(outcome.durationMs)} s`);
  }
  return lines;
}

/** A step this slow gets its reason printed. */
const SLOW_STEP_MS = 5_000;

/** The script's slowest lines when it was traced; else the step's own summary (a reboot says systemd's times). */
function whereItWent(step: NonNullable<ScenarioOutcome['steps']>[number]): string {
  const traced = slowestLines(step.commands.map((c) => c.stderr).join('\n'));
  if (traced.length) return `slowest lines: ${traced.map((l) => `${l.seconds.toFixed(1)} s \`${shortCommand(l.command)}\``).join('; ')}`;
  return step.summary;
}

function shortCommand(command: string): string {
  return command.replace(/\s+/g, ' ').slice(0, 90);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const figures = measureFullOs({
    ...(process.env.BENCH_FULL_OS_IMAGE && { image: process.env.BENCH_FULL_OS_IMAGE }),
    ...(process.env.BENCH_FULL_OS_SCENARIOS && { scenarios: process.env.BENCH_FULL_OS_SCENARIOS.split(',') }),
  });
  console.log(describeFullOs(figures).join('\n'));
}
