import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { diffResults, renderDiffMarkdown } from '../report/diff-results.ts';
import { mergeRuns, missingFromMerge, parseExpectation, resultsFile, unionPlan, writeMergedResults } from '../report/merge-results.ts';
import { ResultsStore } from '../report/results-store.ts';
import { readTrend, renderTrendMarkdown } from '../report/trend.ts';
import { renderTrendHtml } from '../report/trend-html.ts';
import { writeReports } from '../report/write-reports.ts';
import { UsageError } from '../runner/run-scenarios.ts';
import { scenarioPassed } from '../core/scenario.ts';

export const REPORT_HELP = `usage: toa-lab report merge <run-dir>... [--out DIR] [--expect PLAN-FILE|CELL-COUNT]
       toa-lab report diff <old-run-dir> <new-run-dir> [--format md|json]
       toa-lab report trend <run-dir>... [--format md|json|html]

  merge   joins shards' results.jsonl into one run folder with every report
          (refuses results from another toa-lab version, or a cell reported twice);
          exits 1 when a merged scenario failed, or — with --expect — when a cell or scenario
          of the plan has no result (a shard that crashed or never uploaded); the missing
          ones are named. PLAN-FILE is what 'toa-lab list --json' or 'toa-lab matrix
          --format json' prints for the whole (unsharded) run; a bare number only counts cells.
          Each shard's own plan (in its results.jsonl) is checked as well.
  diff    newly failing, newly passing, and scenarios/steps 20 % slower or more;
          exits 1 when something newly fails
  trend   over N runs (ordered by when each ran): per cell × scenario, its status run by
          run, the last run it passed, the run its current failure began, and its durations;
          a report, so it exits 0 (1 is for diff's "newly failing"); --format html: one
          self-contained page with a status strip and a duration chart per row
`;

export async function reportCommand(args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { out: { type: 'string' }, format: { type: 'string', default: 'md' }, expect: { type: 'string' } },
  });
  const [action, ...dirs] = positionals;
  if (action === 'merge') {
    if (dirs.length === 0) throw new UsageError('report merge: name at least one run folder');
    const expectation = values.expect === undefined ? undefined : parseExpectation(values.expect);
    // With --expect, a folder without results is a lost shard to report, not a usage error.
    const merged = mergeRuns(dirs, { allowMissing: expectation !== undefined });
    const records = merged.results;
    const plan = expectation?.kind === 'plan' ? expectation.plan : unionPlan(merged.plans);
    const out = resolve(values.out ?? 'out/merged');
    mkdirSync(out, { recursive: true });
    writeMergedResults(new ResultsStore(out).path, merged, plan);
    const files = await writeReports(out, records, {
      title: 'toa-lab conformance report (merged)',
      notes: [`merged from ${dirs.join(', ')}`],
      cells: merged.cells,
      ...(plan && { plan }),
    });
    const failed = records.filter((r) => !scenarioPassed(r.outcome)).length;
    process.stdout.write(
      `${records.length} results from ${dirs.length} run(s), ${failed} failed → ${out}\n${files.map((f) => `  ${f}`).join('\n')}\n`,
    );
    const missing = missingFromMerge(merged, expectation);
    if (missing.length) process.stderr.write(`toa-lab: the merge is incomplete:\n${missing.map((m) => `  ${m}`).join('\n')}\n`);
    return failed || missing.length ? 1 : 0;
  }
  if (action === 'diff') {
    if (dirs.length !== 2) throw new UsageError('report diff: name exactly two run folders, old then new');
    const diff = diffResults(ResultsStore.read(resultsFile(dirs[0]!)), ResultsStore.read(resultsFile(dirs[1]!)));
    process.stdout.write(values.format === 'json' ? `${JSON.stringify(diff, null, 2)}\n` : renderDiffMarkdown(diff));
    return diff.newlyFailing.length ? 1 : 0;
  }
  if (action === 'trend') {
    if (dirs.length === 0) throw new UsageError('report trend: name the run folders to compare');
    const trend = readTrend(dirs);
    const render = { json: () => `${JSON.stringify(trend, null, 2)}\n`, html: () => renderTrendHtml(trend), md: () => renderTrendMarkdown(trend) };
    const format = (values.format ?? 'md') as keyof typeof render;
    if (!(format in render)) throw new UsageError(`report trend: --format md|json|html, got '${values.format}'`);
    process.stdout.write(render[format]());
    return 0;
  }
  throw new UsageError(`report: expected 'merge', 'diff' or 'trend'\n\n${REPORT_HELP}`);
}
