import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResultsStore, type ResultRecord } from '../../harness/report/results-store.ts';
import { repoRoot } from '../../harness/repo-root.ts';

/**
 * `toa-lab run ...` as a user runs it (a child process, bin/toa-lab.js), and
 * what it left in its --out folder: the records of results.jsonl and report.md.
 */
export interface ToaLabRun {
  code: number | null;
  /** The child's pid: its run folder is /tmp/toa-lab/s-<pid>-… */
  pid: number;
  stdout: string;
  stderr: string;
  out: string;
  records: ResultRecord[];
  report: string;
  /** The outcome of one scenario in one cell, if the run recorded it. */
  outcome(cell: string, scenario: string): ResultRecord['outcome'] | undefined;
}

const outFolders: string[] = [];

/** The --out folders of this file's runs: a test file removes them in afterAll. */
export function removeRunFolders(): void {
  for (const out of outFolders.splice(0)) rmSync(out, { recursive: true, force: true });
}

export function runToaLab(args: readonly string[], options: { timeoutMs: number }): ToaLabRun {
  const out = mkdtempSync(join(tmpdir(), 'toa-lab-run-'));
  outFolders.push(out);
  const result = spawnSync(process.execPath, [join(repoRoot(), 'bin', 'toa-lab.js'), 'run', ...args, '--out', out], {
    encoding: 'utf8',
    timeout: options.timeoutMs,
  });
  const records = existsSync(join(out, 'results.jsonl')) ? ResultsStore.read(join(out, 'results.jsonl')) : [];
  return {
    code: result.status,
    pid: result.pid,
    stdout: result.stdout,
    stderr: result.stderr,
    out,
    records,
    report: existsSync(join(out, 'report.md')) ? readFileSync(join(out, 'report.md'), 'utf8') : '',
    outcome: (cell, scenario) => records.find((r) => r.cell === cell && r.outcome.scenario === scenario)?.outcome,
  };
}
