import { copyFileSync } from 'node:fs';
import { availableParallelism, freemem } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { MICROVM_SUITES, microVmImageName } from '../images/microvm/build-microvm-image.ts';
import { MicroLab } from '../lab/micro-lab.ts';
import { RunSession } from '../lifecycle/run-session.ts';
import { ResultsStore } from '../report/results-store.ts';
import { LiveStatus } from '../report/live-status.ts';
import { TapWriter } from '../report/tap-writer.ts';
import { writeReports } from '../report/write-reports.ts';
import { runScenarios, selectScenarios, UsageError } from '../runner/run-scenarios.ts';
import { check, scenarioPassed, type Scenario, type ScenarioOutcome } from '../runner/scenario.ts';
import type { StepResult } from '../runner/step.ts';
import { describeChoice, prepareModule, type ToaModuleChoice } from '../toa/module-choice.ts';
import { resolveGuestKernel } from '../images/microvm/guest-kernel.ts';
import { parseShard, shardPairs } from '../runner/shard.ts';
import type { DebianSuite } from '../toa/suite-chroot.ts';
import { SCENARIOS } from '../../scenarios/index.ts';

const IMAGES = MICROVM_SUITES.map((suite) => ({ name: microVmImageName(suite), suite }));

export const RUN_HELP = `usage: toa-lab run [--image NAME[,NAME...]] [--scenario ID[,ID...]] [--shard i/n]
                   [--parallel N] [--toa-source DIR|TARBALL|GIT-URL | --toa-ko FILE]
                   [--toa-kind N] [--out DIR]

Boots the lab's images (Debian's 5.10, 6.1 and 6.12 kernels with our toa.ko
and toa-backend), runs the scenarios on each, streams TAP 13 on stdout, and
writes to DIR: results.jsonl (one line per finished scenario, kept even if the
run is interrupted), report.md, report.html (+ report.png), junit/<cell>.xml,
and each guest's serial console log.

  --image      images (default: all): ${IMAGES.map((i) => i.name).join(', ')}
  --scenario   scenarios (default: all): ${SCENARIOS.map((s) => s.id).join(', ')}
  --shard      run only shard i of n of the image × scenario pairs (CI matrices)
  --parallel   images booted at once (default from cores and memory: ${defaultParallelism()})
  --toa-source test a vendor's TOA module: its source is built against each image's kernel
               headers (kbuild); the verdict says whether it did not build (first compiler
               errors, known causes explained), did not load, crashed the guest, reported a
               wrong address, or passed
  --toa-ko     test a prebuilt toa.ko as the guide's "install on multiple servers" step does
  --toa-kind   the TCP option kind the balancer sends (default 254; 200 and 253 exist)
  --out        report folder (default: out/run-<timestamp>)

Exit code: 0 all passed, 1 some scenario failed, 2 usage or set-up error.
`;

export async function runCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      image: { type: 'string', multiple: true },
      scenario: { type: 'string', multiple: true },
      shard: { type: 'string' },
      parallel: { type: 'string' },
      'toa-source': { type: 'string' },
      'toa-ko': { type: 'string' },
      'toa-kind': { type: 'string' },
      out: { type: 'string' },
    },
  });
  const module = moduleChoice(values['toa-source'], values['toa-ko']);
  const toaKind = values['toa-kind'] === undefined ? 254 : Number(values['toa-kind']);
  if (!Number.isInteger(toaKind) || toaKind < 0 || toaKind > 255) throw new UsageError(`--toa-kind wants an option kind 0–255, got '${values['toa-kind']}'`);
  const scenarios = selectScenarios(SCENARIOS, list(values.scenario));
  const images = selectImages(list(values.image));
  const shard = values.shard ? parseShard(values.shard) : undefined;
  const parallel = values.parallel ? Number(values.parallel) : defaultParallelism();
  if (!Number.isInteger(parallel) || parallel < 1) throw new UsageError(`--parallel wants a whole number ≥ 1, got '${values.parallel}'`);

  // The work, as (image, scenario) pairs in canonical order, then this shard's share.
  const pairs = shardPairs(images.flatMap((image) => scenarios.map((scenario) => ({ image, scenario }))), shard);
  const plan = images
    .map((image) => ({ image, scenarios: pairs.filter((p) => p.image === image).map((p) => p.scenario) }))
    .filter((p) => p.scenarios.length > 0);

  const outDir = resolve(values.out ?? `out/run-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  const store = new ResultsStore(outDir);
  const status = new LiveStatus(process.stdout);
  const tap = new TapWriter((text) => status.write(text));
  const notes: string[] = [`module under test: ${describeChoice(module)}; TOA option kind ${toaKind}`];
  if (shard) notes.push(`shard ${shard.index}/${shard.count}`);
  const session = await RunSession.open();
  const outcomes: ScenarioOutcome[] = [];
  try {
    await forEachConcurrently(plan, parallel, async ({ image, scenarios: share }) => {
      const cell = image.name;
      const say = (line: string): void => tap.comment(`${cell}: ${line}`);
      status.set(cell, 'preparing the image and module…');
      const cellOutcomes: ScenarioOutcome[] = [];
      const recordCell = (outcome: ScenarioOutcome): void => {
        cellOutcomes.push(outcome);
        record(cell, outcome);
      };
      let lab: MicroLab;
      try {
        const prepared = await prepareModule(module, await resolveGuestKernel(image.suite, say), await session.subdir('module'));
        if (prepared.buildFailure) {
          recordCell(moduleOutcome(prepared.steps, `did not build: ${prepared.buildFailure}`));
          for (const scenario of share) recordCell(failedToStart(scenario, `the TOA module did not build for this kernel`));
          notes.push(`${cell}: module verdict: did not build`);
          status.remove(cell);
          return;
        }
        status.set(cell, 'booting…');
        lab = await MicroLab.start(session, { suite: image.suite, log: say, toaKind, ...(prepared.koPath && { toaModule: prepared.koPath }) });
        if (prepared.steps.length) recordCell(moduleOutcome(prepared.steps));
      } catch (error) {
        // The image did not come up: every scenario of it fails with the reason; the others go on.
        for (const scenario of share) recordCell(failedToStart(scenario, error));
        status.remove(cell);
        return;
      }
      notes.push(`${cell}: kernel ${lab.image.kernelPackage.name} ${lab.image.kernelPackage.version}; ${lab.vm.accelerator.accelerator} (${lab.vm.accelerator.reason})`);
      try {
        await runScenarios(lab, share, recordCell, (scenario, index) =>
          status.set(cell, `scenario ${index + 1}/${share.length}: ${scenario.id}`),
        );
        notes.push(`${cell}: module verdict: ${moduleVerdict(cellOutcomes)}`);
      } finally {
        // The console log is evidence; the session folder goes with the run.
        copyFileSync(lab.vm.console.path, `${outDir}/console-${cell}.log`);
        await lab.stop();
        status.remove(cell);
      }
    });
    tap.end();
    await writeReports(outDir, ResultsStore.read(store.path), { title: 'toa-lab conformance report', notes });
    const passed = outcomes.filter(scenarioPassed).length;
    process.stdout.write(`# ${passed} passed, ${outcomes.length - passed} failed\n# reports: ${outDir}\n`);
    return passed === outcomes.length ? 0 : 1;
  } finally {
    await session.close();
  }

  function record(cell: string, outcome: ScenarioOutcome): void {
    outcomes.push(outcome);
    store.append(cell, outcome);
    tap.outcome(cell, outcome);
  }
}

function failedToStart(scenario: Scenario<MicroLab>, error: unknown): ScenarioOutcome {
  return {
    scenario: scenario.id,
    title: scenario.title,
    checks: [],
    durationMs: 0,
    error: typeof error === 'string' ? error : `the image did not start: ${error instanceof Error ? error.message : String(error)}`,
  };
}

/** The module's own row in the matrix: how it was fetched and built for this kernel. */
function moduleOutcome(steps: StepResult[], error?: string): ScenarioOutcome {
  return {
    scenario: 'toa-module',
    title: 'The TOA module under test is fetched and built for this kernel',
    checks: steps.map((s) => check(s.name, s.status === 'passed', 'passes', s.summary, s.evidence)),
    steps,
    durationMs: steps.reduce((sum, s) => sum + s.durationMs, 0),
    ...(error && { error }),
  };
}

/**
 * One word for a vendor: did the module not build, not load, crash the guest,
 * report a wrong address — or pass everything.
 */
export function moduleVerdict(outcomes: readonly ScenarioOutcome[]): string {
  const checks = outcomes.flatMap((o) => o.checks);
  if (checks.some((c) => c.name.startsWith('toa.ko loads') && !c.passed)) return 'did not load';
  if (checks.some((c) => c.name.startsWith('kernel unhurt') && !c.passed) || outcomes.some((o) => /agent|did not come up/.test(o.error ?? ''))) {
    return 'crashed the guest';
  }
  if (!outcomes.every(scenarioPassed)) return 'loaded but reported a wrong address (see the failing checks)';
  return 'passed';
}

function moduleChoice(source: string | undefined, prebuilt: string | undefined): ToaModuleChoice {
  if (source && prebuilt) throw new UsageError('--toa-source and --toa-ko exclude each other');
  if (source) return { origin: 'source', location: source };
  if (prebuilt) return { origin: 'prebuilt', path: resolve(prebuilt) };
  return { origin: 'toa-lab' };
}

function selectImages(names: readonly string[]): Array<{ name: string; suite: DebianSuite }> {
  if (names.length === 0) return IMAGES;
  const unknown = names.filter((n) => !IMAGES.some((i) => i.name === n));
  if (unknown.length) throw new UsageError(`unknown image ${unknown.join(', ')}; known: ${IMAGES.map((i) => i.name).join(', ')}`);
  return IMAGES.filter((i) => names.includes(i.name));
}

function list(values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
}

/** A TCG guest keeps two cores busy and needs ~1 GiB with QEMU's overhead. */
function defaultParallelism(): number {
  return Math.max(1, Math.min(Math.floor(availableParallelism() / 2), Math.floor(freemem() / 2 ** 30 / 1.5)));
}

async function forEachConcurrently<T>(items: readonly T[], limit: number, body: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await body(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
