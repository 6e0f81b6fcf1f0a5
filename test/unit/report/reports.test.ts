import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diffResults, renderDiffMarkdown } from '../../../harness/report/diff-results.ts';
import { writeJUnitReports } from '../../../harness/report/junit-report.ts';
import { renderMarkdownReport } from '../../../harness/report/markdown-report.ts';
import { mergeResultDirs } from '../../../harness/report/merge-results.ts';
import type { ResultRecord } from '../../../harness/report/results-store.ts';
import { TapWriter } from '../../../harness/report/tap-writer.ts';
import { record } from './fixtures.ts';

const SCHEMA = join(import.meta.dirname, 'junit.xsd');

function writeRun(records: ResultRecord[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'toa-lab-run-'));
  writeFileSync(join(dir, 'results.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return dir;
}

describe('TAP', () => {
  it('streams one test point per scenario with the plan last', () => {
    let text = '';
    const tap = new TapWriter((t) => (text += t));
    tap.outcome('cell-a', record('cell-a', 'one').outcome);
    tap.outcome('cell-a', record('cell-a', 'two', { passed: false }).outcome);
    tap.end();
    expect(text).toMatch(/^TAP version 13\nok 1 - cell-a one: /);
    expect(text).toMatch(/\nnot ok 2 - cell-a two: /);
    expect(text.trimEnd().split('\n').at(-1)).toBe('1..2');
  });
});

describe('JUnit', () => {
  const xpath = (file: string, expr: string): string => execFileSync('xmllint', ['--xpath', expr, file], { encoding: 'utf8' }).replace(/\n$/, '');
  const validate = (file: string): void => void execFileSync('xmllint', ['--noout', '--schema', SCHEMA, file], { stdio: 'pipe' });

  it('writes one schema-valid file per cell from the records: properties, classname, time, only the failing checks', () => {
    const out = mkdtempSync(join(tmpdir(), 'toa-lab-junit-'));
    const skipped = record('debian-12', 'kinds');
    skipped.outcome = { ...skipped.outcome, checks: [], durationMs: 0, skipped: "needs toa-lab's own module parameters" };
    const crashed = record('debian-12', 'load');
    crashed.outcome = { ...crashed.outcome, checks: [], error: 'the guest no longer answers \x1b[0m' };
    const notes = new Map([
      ['debian-12', { cell: 'debian-12', image: 'debian-12', kernel: '6.1.0-56-amd64', accelerator: 'tcg', moduleVerdict: 'passed', consoleLog: 'console-debian-12.log' }],
    ]);
    const files = writeJUnitReports(
      [record('debian-12', 'a', { durationMs: 1_234 }), record('debian-12', 'b', { passed: false }), skipped, crashed, record('microvm-6.1', 'a')],
      out,
      notes,
    );
    expect(files.map((f) => f.split('/').at(-1))).toEqual(['debian-12.xml', 'microvm-6.1.xml']);
    for (const file of files) validate(file);
    const [file] = files as [string];
    expect(xpath(file, 'string(//testsuite/@name)')).toBe('debian-12');
    expect(xpath(file, 'string(//testsuite/@tests)')).toBe('4');
    expect(xpath(file, 'string(//testsuite/@failures)')).toBe('1');
    expect(xpath(file, 'string(//testsuite/@errors)')).toBe('1');
    expect(xpath(file, 'string(//testsuite/@skipped)')).toBe('1');
    expect(xpath(file, 'string(//property[@name="kernel"]/@value)')).toBe('6.1.0-56-amd64');
    expect(xpath(file, 'string(//property[@name="accelerator"]/@value)')).toBe('tcg');
    expect(xpath(file, 'string(//property[@name="module verdict"]/@value)')).toBe('passed');
    expect(xpath(file, 'string(//testcase[@name="a"]/@classname)')).toBe('debian-12');
    expect(xpath(file, 'string(//testcase[@name="a"]/@time)')).toBe('1.234');
    expect(xpath(file, 'count(//testcase[@name="a"]/*)')).toBe('0');
    const failure = xpath(file, 'string(//testcase[@name="b"]/failure)');
    expect(xpath(file, 'string(//testcase[@name="b"]/failure/@message)')).toBe('peers match');
    expect(failure).toContain('expected: 198.51.100.1:40001');
    expect(failure).toContain('observed: 192.0.2.2:51000');
    expect(failure).toContain('conn peer=192.0.2.2:51000');
    expect(failure).not.toContain('toa.ko loads'); // the passing check is not noise in the failure
    expect(xpath(file, 'string(//testcase[@name="kinds"]/skipped/@message)')).toBe("needs toa-lab's own module parameters");
    expect(xpath(file, 'string(//testcase[@name="load"]/error/@message)')).toMatch(/^the guest no longer answers/);
    expect(xpath(file, 'string(//testsuite/system-out)')).toContain('console-debian-12.log');
    // A cell without notes has no invented properties.
    expect(xpath(files[1]!, 'count(//property[@name="kernel"])')).toBe('0');
  });

  it('a planned scenario without a record becomes an <error>, and a planned cell without any gets its file', () => {
    const out = mkdtempSync(join(tmpdir(), 'toa-lab-junit-plan-'));
    const plan = {
      planVersion: 1 as const,
      cells: [
        { id: 'c1', image: 'c1', kind: 'micro' as const, scenarios: ['a', 'b'] },
        { id: 'c2', image: 'c2', kind: 'micro' as const, scenarios: ['a'] },
      ],
    };
    const files = writeJUnitReports([record('c1', 'a')], out, new Map(), plan);
    expect(files.map((f) => f.split('/').at(-1))).toEqual(['c1.xml', 'c2.xml']);
    for (const file of files) validate(file);
    expect(xpath(files[0]!, 'string(//testcase[@name="b"]/error/@message)')).toMatch(/planned but never reported/);
    expect(xpath(files[0]!, 'string(//testsuite/@errors)')).toBe('1');
    expect(xpath(files[1]!, 'string(//testsuite/@tests)')).toBe('1');
  });

  it('the schema really rejects malformed files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'toa-lab-junit-bad-'));
    const bad = join(dir, 'bad.xml');
    for (const text of [
      '<testsuites><testsuite name="x" tests="-1" failures="0" errors="0"><testcase name="a"/></testsuite></testsuites>',
      '<testsuites><testsuite name="x" tests="1" failures="0" errors="0"><testcase/></testsuite></testsuites>',
      '<testsuites><testsuite name="x" tests="1" failures="0"><testcase name="a"/></testsuite></testsuites>',
      '<testsuites><testsuite name="x" tests="1" failures="0" errors="0"><testcase name="a" time="soon"/></testsuite></testsuites>',
      '<testsuites><testsuite name="x" tests="1" failures="0" errors="0"><testcase name="a"/><properties/></testsuite></testsuites>',
    ]) {
      writeFileSync(bad, `<?xml version="1.0"?>${text}`);
      expect(() => validate(bad), text).toThrow();
    }
  });
});

describe('Markdown report', () => {
  it('shows the matrix and each failing check with its evidence', () => {
    const text = renderMarkdownReport([record('c1', 'a'), record('c1', 'b', { passed: false })], { title: 'T', notes: ['n'] });
    expect(text).toMatch(/\| a \| ✅ pass \(1\.0 s\) \|/);
    expect(text).toMatch(/\| b \| ❌ FAIL/);
    expect(text).toContain('**1 passed, 1 failed, 0 skipped, 0 not run**');
    expect(text).toContain('conn peer=192.0.2.2:51000');
  });
});

describe('report merge', () => {
  it('joins shards in order', () => {
    const merged = mergeResultDirs([writeRun([record('c1', 'a')]), writeRun([record('c2', 'a'), record('c2', 'b')])]);
    expect(merged.map((r) => `${r.cell}/${r.outcome.scenario}`)).toEqual(['c1/a', 'c2/a', 'c2/b']);
  });

  it('refuses results from another toa-lab version, saying which file and version', () => {
    const old = writeRun([{ ...record('c1', 'a'), toaLabVersion: '0.0.1' }]);
    expect(() => mergeResultDirs([writeRun([record('c2', 'a')]), old])).toThrow(
      new RegExp(`${old}/results.jsonl:1 was written by toa-lab 0\\.0\\.1 .*this is toa-lab`),
    );
  });

  it('refuses a cell × scenario reported by two shards, and a folder without results', () => {
    expect(() => mergeResultDirs([writeRun([record('c1', 'a')]), writeRun([record('c1', 'a')])])).toThrow(/c1 × a is reported twice/);
    const empty = mkdtempSync(join(tmpdir(), 'toa-lab-empty-'));
    mkdirSync(join(empty, 'x'));
    expect(() => mergeResultDirs([empty])).toThrow(/no results at .*results.jsonl/);
  });
});

describe('report diff', () => {
  it('finds newly failing, newly passing, and ≥ 20 % slower scenarios and steps', () => {
    const older = [record('c', 'keeps'), record('c', 'breaks'), record('c', 'heals', { passed: false }), record('c', 'slows', { stepMs: 1_000 })];
    const newer = [
      record('c', 'keeps', { durationMs: 1_100 }),
      record('c', 'breaks', { passed: false }),
      record('c', 'heals'),
      record('c', 'slows', { durationMs: 1_300, stepMs: 1_500 }),
    ];
    const diff = diffResults(older, newer);
    expect(diff.newlyFailing).toEqual(['c × breaks']);
    expect(diff.newlyPassing).toEqual(['c × heals']);
    expect(diff.slower.map((s) => s.what)).toEqual(['c × slows › step "make"', 'c × slows']);
    expect(renderDiffMarkdown(diff)).toContain('## Newly failing (1)');
  });

  it('ignores tiny durations (noise on a TCG guest)', () => {
    const diff = diffResults([record('c', 'a', { durationMs: 40, stepMs: 10 })], [record('c', 'a', { durationMs: 90, stepMs: 30 })]);
    expect(diff.slower).toEqual([]);
  });
});
