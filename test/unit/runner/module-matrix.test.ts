import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planModules, selectionFrom } from '../../../harness/cli/cell-selection.ts';
import { UsageError } from '../../../harness/core/usage-error.ts';
import { compatibilityTable, renderCompatibilityMarkdown, shortWords } from '../../../harness/report/compatibility-table.ts';
import { renderHtmlReport } from '../../../harness/report/html-report.ts';
import { writeJUnitReports } from '../../../harness/report/junit-report.ts';
import { renderMarkdownReport, renderMarkdownSummary } from '../../../harness/report/markdown-report.ts';
import { ResultsStore, type CellNotes } from '../../../harness/report/results-store.ts';
import { mergeRuns, missingFromMerge, unionPlan } from '../../../harness/report/merge-results.ts';
import { cellId, planCells, type PlanModule } from '../../../harness/runner/cell-plan.ts';
import { moduleFacts } from '../../../harness/runner/module-verdict.ts';
import type { LabImage } from '../../../harness/runner/lab-images.ts';
import { withoutBuildDirs } from '../../../harness/toa/module-choice.ts';
import { record } from '../report/fixtures.ts';

const MODULES: PlanModule[] = [
  { name: 'toa-lab', origin: 'toa-lab' },
  { name: 'huawei', origin: 'source' },
  { name: 'ucloud', origin: 'prebuilt' },
];

describe('module × kernel plan', () => {
  it('one module (the default, or one named): cell ids stay the image names', () => {
    expect(planCells({ images: ['microvm-bookworm'], modules: [MODULES[1]!] }).plan.cells.map((c) => [c.id, c.module])).toEqual([['microvm-bookworm', undefined]]);
    expect(planCells({ images: ['microvm-bookworm'] }).plan.cells[0]!.id).toBe('microvm-bookworm');
  });

  it('two or more: a cell per image and module, <image>+<module>, image-major in flag order', () => {
    const { plan, work, left } = planCells({ images: ['microvm-bullseye', 'microvm-bookworm'], scenarios: ['fullnat-toa-v4'], modules: MODULES });
    expect(plan.cells.map((c) => c.id)).toEqual([
      'microvm-bookworm+toa-lab',
      'microvm-bookworm+huawei',
      'microvm-bookworm+ucloud',
      'microvm-bullseye+toa-lab',
      'microvm-bullseye+huawei',
      'microvm-bullseye+ucloud',
    ]);
    expect(plan.cells[1]).toEqual({ id: 'microvm-bookworm+huawei', image: 'microvm-bookworm', kind: 'micro', module: 'huawei', scenarios: ['fullnat-toa-v4'] });
    expect(work.map((w) => w.module)).toEqual(['toa-lab', 'huawei', 'ucloud', 'toa-lab', 'huawei', 'ucloud']);
    expect(left).toEqual([]);
  });

  it('a whole OS boots once per source module; a prebuilt .ko and the patched-kernel path for vendors are left out, with the reason', () => {
    const { plan, left } = planCells({ images: ['debian-12', 'centos-6.8-patched-kernel'], scenarios: ['guide-procedure'], modules: MODULES });
    expect(plan.cells.map((c) => c.id)).toEqual(['debian-12+toa-lab', 'debian-12+huawei', 'centos-6.8-patched-kernel+toa-lab']);
    expect(left.map((l) => `${l.image} × ${l.module}`)).toEqual(['debian-12 × ucloud', 'centos-6.8-patched-kernel × huawei', 'centos-6.8-patched-kernel × ucloud']);
    expect(left[0]!.reason).toMatch(/prebuilt \.ko is for micro-VMs/);
  });

  it('ids never collide, even for an image name with a "+" in it (a kernel release)', () => {
    const image = (name: string): LabImage => ({ kind: 'micro', name, suite: 'trixie', byDefault: false });
    const names = ['microvm-deb-7.2.13+deb14-amd64', 'microvm-deb-7.2.13', 'microvm-bookworm'];
    const modules = ['toa-lab', 'deb14-amd64', 'huawei'];
    const ids = names.flatMap((n) => modules.map((m) => cellId(image(n), m)));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(modules).toContain(id.slice(id.lastIndexOf('+') + 1));
  });

  it('--shard splits the image × module × scenario pairs without overlap and covers them all', () => {
    const selection = { images: ['microvm-bookworm', 'microvm-bullseye'], scenarios: ['fullnat-toa-v4', 'udp', 'load'], modules: MODULES };
    const pairs = (shard?: { index: number; count: number }) =>
      planCells({ ...selection, ...(shard && { shard }) }).plan.cells.flatMap((c) => c.scenarios.map((s) => `${c.id} × ${s}`));
    const whole = pairs();
    expect(whole).toHaveLength(2 * 3 * 3);
    const parts = [1, 2, 3, 4].map((index) => pairs({ index, count: 4 }));
    expect(parts.flat().sort()).toEqual([...whole].sort());
    expect(new Set(parts.flat()).size).toBe(whole.length);
  });

  it('--rerun-failed takes the failed image+module pairs, the images found from the ids when none is named', () => {
    const dir = mkdtempSync(join(tmpdir(), 'toa-lab-modrerun-'));
    const store = new ResultsStore(dir);
    const { plan } = planCells({ images: ['microvm-bookworm'], scenarios: ['fullnat-toa-v4', 'udp'], modules: MODULES.slice(0, 2) });
    store.appendPlan(plan);
    store.append('microvm-bookworm+toa-lab', record('microvm-bookworm+toa-lab', 'fullnat-toa-v4').outcome);
    store.append('microvm-bookworm+toa-lab', record('microvm-bookworm+toa-lab', 'udp').outcome);
    store.append('microvm-bookworm+huawei', record('microvm-bookworm+huawei', 'fullnat-toa-v4', { passed: false }).outcome);
    // microvm-bookworm+huawei × udp: planned, never reported
    const again = planCells({ ...selectionFrom({ 'rerun-failed': dir, 'toa-source': ['ours', 'huawei=/srv/huawei'] }, {}) });
    expect(again.plan.cells).toEqual([{ id: 'microvm-bookworm+huawei', image: 'microvm-bookworm', kind: 'micro', module: 'huawei', scenarios: ['fullnat-toa-v4', 'udp'] }]);
  });

  it('the flags as the plan reads them: names and origins; a clash is a usage error', () => {
    expect(planModules({ 'toa-source': ['ours', 'huawei=/srv/h'], 'toa-ko': ['/srv/ucloud.ko'] })).toEqual([
      { name: 'toa-lab', origin: 'toa-lab' },
      { name: 'huawei', origin: 'source' },
      { name: 'ucloud', origin: 'prebuilt' },
    ]);
    expect(() => planModules({ 'toa-source': ['/a/toa', '/b/toa'] })).toThrow(UsageError);
  });
});

describe('module verdict words', () => {
  it('a compiler line reads the same on every run: the lab\'s build folder is dropped, other paths kept', () => {
    expect(withoutBuildDirs("/tmp/toa-lab/s-1-a/module-5/build/toa.c:33:33: error: implicit declaration of function ‘kallsyms_lookup_name’")).toBe(
      "toa.c:33:33: error: implicit declaration of function ‘kallsyms_lookup_name’",
    );
    expect(withoutBuildDirs('make: /lib/modules/6.1.0-57-amd64/build: No such file or directory')).toBe('make: /lib/modules/6.1.0-57-amd64/build: No such file or directory');
  });

  it('the failing load check\'s own line, else the first fault, else the first failing check; none when passed', () => {
    const ok = record('c', 'fullnat-toa-v4').outcome;
    expect(moduleFacts([ok])).toEqual({ moduleVerdict: 'passed', moduleStatus: 'passed' });
    const refused = {
      ...ok,
      checks: [{ name: 'toa.ko loads', passed: false, expected: 'loaded', observed: 'insmod exit 1: …', kind: 'module-load' as const, said: "toa: version magic '6.1.0' should be '5.10.0'" }],
    };
    expect(moduleFacts([refused])).toEqual({ moduleVerdict: 'did not load', moduleStatus: 'failed', moduleWords: "toa: version magic '6.1.0' should be '5.10.0'" });
    const wrong = record('c', 'fullnat-toa-v4', { passed: false }).outcome;
    expect(moduleFacts([wrong]).moduleWords).toBe('peers match: 192.0.2.2:51000');
    const gone = { ...ok, checks: [], error: 'the guest no longer answers (console: Kernel panic - not syncing)', failure: 'guest-gone' as const };
    expect(moduleFacts([ok, gone, { ...wrong, checks: [], error: 'not run: the guest is gone', failure: 'not-run' as const }])).toEqual({
      moduleVerdict: 'crashed the guest',
      moduleStatus: 'failed',
      moduleWords: 'the guest no longer answers (console: Kernel panic - not syncing)',
    });
  });
});

describe('compatibility table', () => {
  const notes = (cell: string, image: string, module: string, extra: Partial<CellNotes>): [string, CellNotes] => [cell, { cell, image, module, ...extra }];
  const cells = new Map([
    notes('microvm-bullseye+toa-lab', 'microvm-bullseye', 'toa-lab', { kernel: '5.10.0-39-amd64', moduleVerdict: 'passed', moduleStatus: 'passed' }),
    notes('microvm-bullseye+old', 'microvm-bullseye', 'old', {
      kernel: '5.10.0-39-amd64',
      moduleVerdict: 'did not build',
      moduleStatus: 'failed',
      moduleWords: "toa.c:33:32: error: implicit declaration of function 'kallsyms_lookup_name' | `x`",
    }),
    notes('microvm-bookworm+toa-lab', 'microvm-bookworm', 'toa-lab', { kernel: '6.1.0-44-amd64', moduleVerdict: 'passed', moduleStatus: 'passed' }),
  ]);
  const plan = {
    planVersion: 1 as const,
    cells: [...cells.values()].map((n) => ({ id: n.cell, image: n.image!, kind: 'micro' as const, module: n.module!, scenarios: ['fullnat-toa-v4'] })),
  };
  plan.cells.push({ id: 'microvm-bookworm+old', image: 'microvm-bookworm', kind: 'micro', module: 'old', scenarios: ['fullnat-toa-v4'] });
  const records = [record('microvm-bullseye+toa-lab', 'fullnat-toa-v4'), record('microvm-bookworm+toa-lab', 'fullnat-toa-v4')];

  it('one verdict per module per kernel, with the words; a pair that never reported says so', () => {
    const table = compatibilityTable(records, cells, plan)!;
    expect(table.modules).toEqual(['toa-lab', 'old']);
    expect(table.images).toEqual([
      { image: 'microvm-bullseye', kernel: '5.10.0-39-amd64' },
      { image: 'microvm-bookworm', kernel: '6.1.0-44-amd64' },
    ]);
    expect(renderCompatibilityMarkdown(table)).toEqual([
      "**Module × kernel compatibility** — one verdict per module per kernel, with the compiler's or the kernel's own words",
      '',
      '| module | microvm-bullseye<br>5.10.0-39-amd64 | microvm-bookworm<br>6.1.0-44-amd64 |',
      '|---|---|---|',
      '| toa-lab | ✅ passed | ✅ passed |',
      "| old | ❌ did not build<br>`toa.c:33:32: error: implicit declaration of function 'kallsyms_lookup_name' \\| 'x'` | — not reported |",
      '',
    ]);
  });

  it('is in report.md and summary.md (before the matrix), report.html; JUnit carries the module and its words', () => {
    const context = { title: 't', notes: [], cells, plan };
    const markdown = renderMarkdownReport(records, context);
    expect(markdown.indexOf('**Module × kernel compatibility**')).toBeLessThan(markdown.indexOf('| scenario |'));
    expect(renderMarkdownSummary(records, context)).toContain('| old | ❌ did not build');
    const html = renderHtmlReport(records, context);
    expect(html).toContain('<table id="compatibility-table">');
    expect(html).toContain('<td class="failed" title="microvm-bullseye+old">did not build<small><code>toa.c:33:32: error: implicit declaration of function &#39;kallsyms_lookup_name&#39;');
    const out = mkdtempSync(join(tmpdir(), 'toa-lab-modjunit-'));
    const files = writeJUnitReports([record('microvm-bullseye+old', 'fullnat-toa-v4', { passed: false })], out, cells);
    const xml = readFileSync(files[0]!, 'utf8');
    expect(xml).toContain('<property name="module" value="old"/>');
    expect(xml).toContain('<property name="module words" value="toa.c:33:32: error');
    execFileSync('xmllint', ['--noout', '--schema', join(import.meta.dirname, '..', 'report', 'junit.xsd'), files[0]!], { stdio: 'pipe' });
  });

  it('CI shards of a module matrix merge into the same table, and --expect checks the <image>+<module> cells', () => {
    const selection = { images: ['microvm-bookworm'], scenarios: ['fullnat-toa-v4', 'udp'], modules: MODULES.slice(0, 2) };
    const whole = planCells(selection).plan;
    const dirs = [1, 2].map((index) => {
      const { plan } = planCells({ ...selection, shard: { index, count: 2 } });
      const dir = mkdtempSync(join(tmpdir(), 'toa-lab-modshard-'));
      const store = new ResultsStore(dir);
      store.appendPlan(plan);
      for (const cell of plan.cells) {
        for (const scenario of cell.scenarios) store.append(cell.id, record(cell.id, scenario).outcome);
        store.appendCell({ cell: cell.id, image: cell.image, module: cell.module!, kernel: '6.1.0-57-amd64', moduleVerdict: 'passed', moduleStatus: 'passed' });
      }
      return dir;
    });
    const merged = mergeRuns(dirs);
    expect(missingFromMerge(merged, { kind: 'plan', plan: whole, source: 'plan.json' })).toEqual([]);
    expect(unionPlan(merged.plans)?.cells.map((c) => c.id)).toEqual(['microvm-bookworm+toa-lab', 'microvm-bookworm+huawei']);
    const table = compatibilityTable(merged.results, merged.cells, whole)!;
    expect(renderCompatibilityMarkdown(table).slice(4, 6)).toEqual(['| toa-lab | ✅ passed |', '| huawei | ✅ passed |']);
  });

  it('no table for cells that name no module (runs from before module specs)', () => {
    expect(compatibilityTable(records, new Map([['c', { cell: 'c', moduleVerdict: 'passed' }]]))).toBeUndefined();
  });

  it('words are one short line', () => {
    expect(shortWords('a\n  b\tc')).toBe('a b c');
    expect(shortWords('x'.repeat(300))).toHaveLength(160);
  });
});
