import { copyFileSync } from 'node:fs';
import { availableParallelism, freemem } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { MICROVM_SUITES, microVmImageName } from '../images/microvm/build-microvm-image.ts';
import { MicroLab } from '../lab/micro-lab.ts';
import { RunSession } from '../lifecycle/run-session.ts';
import { ResultsStore } from '../report/results-store.ts';
import { TapWriter } from '../report/tap-writer.ts';
import { writeReports } from '../report/write-reports.ts';
import { runScenarios, selectScenarios, UsageError } from '../runner/run-scenarios.ts';
import { scenarioPassed, type Scenario, type ScenarioOutcome } from '../runner/scenario.ts';
import { parseShard, shardPairs } from '../runner/shard.ts';
import type { DebianSuite } from '../toa/suite-chroot.ts';
import { SCENARIOS } from '../../scenarios/index.ts';

const IMAGES = MICROVM_SUITES.map((suite) => ({ name: microVmImageName(suite), suite }));

export const RUN_HELP = `usage: toa-lab run [--image NAME[,NAME...]] [--scenario ID[,ID...]] [--shard i/n]
                   [--parallel N] [--out DIR]

Boots the lab's images (Debian's 5.10, 6.1 and 6.12 kernels with our toa.ko
and toa-backend), runs the scenarios on each, streams TAP 13 on stdout, and
writes to DIR: results.jsonl (one line per finished scenario, kept even if the
run is interrupted), report.md, report.html (+ report.png), junit/<cell>.xml,
and each guest's serial console log.

  --image      images (default: all): ${IMAGES.map((i) => i.name).join(', ')}
  --scenario   scenarios (default: all): ${SCENARIOS.map((s) => s.id).join(', ')}
  --shard      run only shard i of n of the image × scenario pairs (CI matrices)
  --parallel   images booted at once (default from cores and memory: ${defaultParallelism()})
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
      out: { type: 'string' },
    },
  });
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
  const tap = new TapWriter((text) => process.stdout.write(text));
  const notes: string[] = [];
  if (shard) notes.push(`shard ${shard.index}/${shard.count}`);
  const session = await RunSession.open();
  const outcomes: ScenarioOutcome[] = [];
  try {
    await forEachConcurrently(plan, parallel, async ({ image, scenarios: share }) => {
      const cell = image.name;
      const say = (line: string): void => tap.comment(`${cell}: ${line}`);
      let lab: MicroLab;
      try {
        lab = await MicroLab.start(session, { suite: image.suite, log: say });
      } catch (error) {
        // The image did not come up: every scenario of it fails with the reason; the others go on.
        for (const scenario of share) record(cell, failedToStart(scenario, error));
        return;
      }
      notes.push(`${cell}: kernel ${lab.image.kernelPackage.name} ${lab.image.kernelPackage.version}; ${lab.vm.accelerator.accelerator} (${lab.vm.accelerator.reason})`);
      try {
        await runScenarios(lab, share, (outcome) => record(cell, outcome));
      } finally {
        // The console log is evidence; the session folder goes with the run.
        copyFileSync(lab.vm.console.path, `${outDir}/console-${cell}.log`);
        await lab.stop();
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
    error: `the image did not start: ${error instanceof Error ? error.message : String(error)}`,
  };
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
