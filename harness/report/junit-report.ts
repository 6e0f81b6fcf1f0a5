import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
// xmlbuilder2 rather than junit-report-builder: it is a plain, typed XML builder
// (no lodash, no file writing of its own), so the element order the Jenkins/Ant
// schema requires and every attribute are ours to state; it escapes text and
// attributes and replaces characters XML 1.0 forbids (a serial console has escape codes).
import { create } from 'xmlbuilder2';
import { scenarioPassed, type Check, type ScenarioOutcome } from '../core/scenario.ts';
import { toaLabVersion } from '../version.ts';
import type { RunPlan } from '../core/plan.ts';
import { unreported } from './outcome-status.ts';
import type { CellNotes, ResultRecord } from './results-store.ts';

/**
 * JUnit XML from the run's own records, one file per matrix cell
 * (junit/<cell>.xml), each one <testsuite> named by the cell:
 * - <properties>: image, kernel, accelerator, provider, module verdict — as far as the run knew them;
 * - one <testcase> per scenario, classname = cell, time in seconds;
 * - <failure> carries only the checks that failed (expected, observed, an evidence excerpt):
 *   a CI test panel shows why, not the passing checks around it;
 * - <error> when the scenario could not run (a crash, a guest gone, a module that did not build);
 * - <skipped> with the reason the scenario does not apply;
 * - <system-out> names the cell's serial console log.
 */
export function renderJUnit(cell: string, records: readonly ResultRecord[], notes: CellNotes | undefined, plan?: RunPlan): string {
  // A planned scenario with no record (a lost shard, an interrupted run) is an error a CI panel shows, not a silence.
  const lost = unreported(records, plan)
    .filter((m) => m.cell === cell)
    .map((m): ScenarioOutcome => ({ scenario: m.scenario, title: m.scenario, checks: [], durationMs: 0, error: 'planned but never reported (a lost shard or an interrupted run)', failure: 'not-run' }));
  const outcomes = [...records.filter((r) => r.cell === cell).map((r) => r.outcome), ...lost];
  const count = (pick: (o: ScenarioOutcome) => boolean): string => String(outcomes.filter(pick).length);
  const time = seconds(outcomes.reduce((sum, o) => sum + o.durationMs, 0));
  const totals = {
    name: cell,
    tests: String(outcomes.length),
    failures: count((o) => !o.error && o.skipped === undefined && !scenarioPassed(o)),
    errors: count((o) => o.error !== undefined),
    skipped: count((o) => o.skipped !== undefined && !o.error),
    time,
  };
  const doc = create({ version: '1.0', encoding: 'UTF-8', invalidCharReplacement: '\uFFFD' });
  const suites = doc.ele('testsuites', { name: `toa-lab ${cell}`, tests: totals.tests, failures: totals.failures, errors: totals.errors, time });
  const finished = records.filter((r) => r.cell === cell).map((r) => r.finishedAt).sort()[0];
  const suite = suites.ele('testsuite', { ...totals, ...(finished && { timestamp: finished }) });

  const properties = suite.ele('properties');
  const property = (name: string, value: string | undefined): void => {
    if (value !== undefined) properties.ele('property', { name, value });
  };
  property('cell', cell);
  property('image', notes?.image);
  property('kernel', notes?.kernel);
  property('accelerator', notes?.accelerator);
  property('provider', notes?.provider);
  property('module', notes?.module);
  property('module verdict', notes?.moduleVerdict);
  property('module words', notes?.moduleWords);
  property('guest start', notes?.guestStart);
  property('toa-lab version', toaLabVersion());

  for (const outcome of outcomes) {
    const testcase = suite.ele('testcase', { name: outcome.scenario, classname: cell, time: seconds(outcome.durationMs) });
    if (outcome.error !== undefined) {
      testcase.ele('error', { type: 'scenario-error', message: firstLine(outcome.error) }).txt(outcome.error);
    } else if (outcome.skipped !== undefined) {
      testcase.ele('skipped', { message: outcome.skipped });
    } else if (!scenarioPassed(outcome)) {
      const failing = outcome.checks.filter((c) => !c.passed && !c.informational);
      const message = failing.length
        ? failing.map((c) => c.name).join('; ')
        : 'no check decided the verdict (the scenario recorded no evidence)';
      testcase.ele('failure', { type: 'check-failed', message }).txt(failing.map(describeFailure).join('\n\n'));
    }
  }
  if (notes?.consoleLog) suite.ele('system-out').txt(`serial console: ${notes.consoleLog}\n`);
  return doc.end({ prettyPrint: true }) + '\n';
}

/** Writes junit/<cell>.xml for every cell that has results or was planned; returns the files. */
export function writeJUnitReports(
  records: readonly ResultRecord[],
  outDir: string,
  notes: ReadonlyMap<string, CellNotes> = new Map(),
  plan?: RunPlan,
): string[] {
  const dir = join(outDir, 'junit');
  mkdirSync(dir, { recursive: true });
  return [...new Set([...records.map((r) => r.cell), ...(plan?.cells.map((c) => c.id) ?? [])])].map((cell) => {
    const file = join(dir, `${safeFileName(cell)}.xml`);
    writeFileSync(file, renderJUnit(cell, records, notes.get(cell), plan));
    return file;
  });
}

export function safeFileName(cell: string): string {
  return cell.replace(/[^\w.-]/g, '_');
}

const EVIDENCE_LINES = 30;

function describeFailure(check: Check): string {
  const lines = [`✗ ${check.name}`, `  expected: ${check.expected}`, `  observed: ${check.observed}`];
  if (check.evidence) {
    // The end of the evidence: for logs and dmesg the newest lines are the telling ones.
    const evidence = check.evidence.trimEnd().split('\n');
    const excerpt = evidence.slice(-EVIDENCE_LINES);
    lines.push(`  evidence${evidence.length > excerpt.length ? ` (last ${EVIDENCE_LINES} of ${evidence.length} lines)` : ''}:`);
    lines.push(...excerpt.map((l) => `    ${l}`));
  }
  return lines.join('\n');
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.slice(0, 300);
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}
