import type { ResultRecord } from '../../../harness/report/results-store.ts';
import { RESULTS_FORMAT_VERSION } from '../../../harness/report/results-store.ts';
import type { ScenarioOutcome } from '../../../harness/core/scenario.ts';
import { toaLabVersion } from '../../../harness/version.ts';

/** A result as a run writes it; `passed` false makes its second check fail. */
export function record(cell: string, scenario: string, options: { passed?: boolean; durationMs?: number; stepMs?: number } = {}): ResultRecord {
  const passed = options.passed ?? true;
  const outcome: ScenarioOutcome = {
    scenario,
    title: `${scenario} <title & "quotes">`,
    durationMs: options.durationMs ?? 1_000,
    checks: [
      { name: 'toa.ko loads', passed: true, expected: 'TOA: toa loaded', observed: 'TOA: toa loaded' },
      {
        name: 'peers match',
        passed,
        expected: '198.51.100.1:40001',
        observed: passed ? 'as expected' : '192.0.2.2:51000',
        evidence: 'conn peer=192.0.2.2:51000 accept=192.0.2.2:51000 <script>alert(1)</script>',
      },
    ],
    steps: [
      {
        name: 'make',
        status: 'passed',
        durationMs: options.stepMs ?? 500,
        summary: 'toa.ko built',
        commands: [{ command: 'make -C /root/toa', exitCode: 0, signal: null, stdout: 'CC toa.o', stderr: '', timedOut: false, durationMs: 400 }],
      },
    ],
  };
  return { formatVersion: RESULTS_FORMAT_VERSION, toaLabVersion: toaLabVersion(), cell, finishedAt: '2026-11-23T00:00:00Z', outcome };
}
