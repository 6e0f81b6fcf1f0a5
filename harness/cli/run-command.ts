import { copyFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { MicroLab } from '../lab/micro-lab.ts';
import { RunSession } from '../lifecycle/run-session.ts';
import { ResultsStore } from '../report/results-store.ts';
import { TapWriter } from '../report/tap-writer.ts';
import { writeReports } from '../report/write-reports.ts';
import { runScenarios, selectScenarios } from '../runner/run-scenarios.ts';
import { scenarioPassed } from '../runner/scenario.ts';
import { SCENARIOS } from '../../scenarios/index.ts';

export const RUN_HELP = `usage: toa-lab run [--scenario ID[,ID...]] [--out DIR]

Boots the micro-VM lab (Debian's kernel, our toa.ko, toa-backend), runs the
scenarios, streams TAP 13 on stdout, and writes DIR/results.jsonl (one line per
finished scenario, kept even if the run is interrupted), DIR/report.md,
DIR/report.html, DIR/junit/<cell>.xml and the guest's serial console log.

  --scenario   scenarios to run (default: all): ${SCENARIOS.map((s) => s.id).join(', ')}
  --out        report folder (default: out/run-<timestamp>)
`;

export async function runCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { scenario: { type: 'string', multiple: true }, out: { type: 'string' } },
  });
  const scenarios = selectScenarios(SCENARIOS, (values.scenario ?? []).flatMap((s) => s.split(',')).filter(Boolean));
  const outDir = resolve(values.out ?? `out/run-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  const store = new ResultsStore(outDir);
  const tap = new TapWriter((text) => process.stdout.write(text));
  const session = await RunSession.open();
  const notes: string[] = [];
  try {
    const lab = await MicroLab.start(session, (line) => {
      tap.comment(line);
      if (line.startsWith('accelerator:')) notes.push(line);
    });
    const cell = `microvm-${lab.vm.kernelRelease}`;
    notes.push(`image: micro-VM, kernel ${lab.image.kernelPackage.name} ${lab.image.kernelPackage.version}`);
    const outcomes = await runScenarios(lab, scenarios, (outcome) => {
      store.append(cell, outcome);
      tap.outcome(cell, outcome);
    });
    tap.end();
    // The session folder goes with the run; the console log is evidence, so it stays.
    copyFileSync(lab.vm.console.path, `${outDir}/console-${cell}.log`);
    await writeReports(outDir, ResultsStore.read(store.path), { title: 'toa-lab conformance report', notes });
    const passed = outcomes.filter(scenarioPassed).length;
    process.stdout.write(`# ${passed} passed, ${outcomes.length - passed} failed\n# reports: ${outDir}\n`);
    return passed === outcomes.length ? 0 : 1;
  } finally {
    await session.close();
  }
}
