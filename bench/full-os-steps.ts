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

/** Step by step, then scenario by scenario; the slowest commands of the three slowest steps. */
export function describeFullOs(figures: FullOsFigures): string[] {
  const lines = [`whole OS ${figures.image}: cell ${figures.wallSeconds.toFixed(1)} s${figures.passed ? '' : ' (FAILED: see the run)'}`];
  const steps = figures.outcomes.flatMap((o) => (o.steps ?? []).map((step) => ({ scenario: o.scenario, step })));
  for (const { scenario, step } of steps) lines.push(`  step ${step.name} [${step.kind ?? '-'}, ${scenario}]`.padEnd(90) + `${s(step.durationMs)} s ${step.status}`);
  const slowest = [...steps].sort((a, b) => b.step.durationMs - a.step.durationMs).slice(0, 3);
  for (const { step } of slowest) {
    // The script's own lines when the step was traced; else its slowest commands as the harness ran them.
    const traced = slowestLines(step.commands.map((c) => c.stderr).join('\n'));
    const parts = traced.length
      ? traced.map((l) => `${l.seconds.toFixed(1)} s \`${shortCommand(l.command)}\``)
      : [...step.commands].sort((a, b) => b.durationMs - a.durationMs).slice(0, 3).map((c) => `${s(c.durationMs)} s \`${shortCommand(c.command)}\``);
    lines.push(`  in ${step.name}: ${parts.join('; ')}`);
  }
  for (const o of figures.outcomes) if (!o.steps?.length) lines.push(`  scenario ${o.scenario}`.padEnd(90) + `${s(o.durationMs)} s`);
  return lines;
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
