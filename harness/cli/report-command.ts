import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { diffResults, renderDiffMarkdown } from '../report/diff-results.ts';
import { mergeResultDirs, resultsFile } from '../report/merge-results.ts';
import { ResultsStore } from '../report/results-store.ts';
import { writeReports } from '../report/write-reports.ts';
import { UsageError } from '../runner/run-scenarios.ts';
import { scenarioPassed } from '../core/scenario.ts';

export const REPORT_HELP = `usage: toa-lab report merge <run-dir>... [--out DIR]
       toa-lab report diff <old-run-dir> <new-run-dir> [--format md|json]

  merge   joins shards' results.jsonl into one run folder with every report
          (refuses results from another toa-lab version, or a cell reported twice);
          exits 1 when a merged scenario failed
  diff    newly failing, newly passing, and scenarios/steps 20 % slower or more;
          exits 1 when something newly fails
`;

export async function reportCommand(args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { out: { type: 'string' }, format: { type: 'string', default: 'md' } },
  });
  const [action, ...dirs] = positionals;
  if (action === 'merge') {
    if (dirs.length === 0) throw new UsageError('report merge: name at least one run folder');
    const records = mergeResultDirs(dirs);
    const out = resolve(values.out ?? 'out/merged');
    mkdirSync(out, { recursive: true });
    writeFileSync(new ResultsStore(out).path, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const files = await writeReports(out, records, { title: 'toa-lab conformance report (merged)', notes: [`merged from ${dirs.join(', ')}`] });
    const failed = records.filter((r) => !scenarioPassed(r.outcome)).length;
    process.stdout.write(
      `${records.length} results from ${dirs.length} run(s), ${failed} failed → ${out}\n${files.map((f) => `  ${f}`).join('\n')}\n`,
    );
    return failed ? 1 : 0;
  }
  if (action === 'diff') {
    if (dirs.length !== 2) throw new UsageError('report diff: name exactly two run folders, old then new');
    const diff = diffResults(ResultsStore.read(resultsFile(dirs[0]!)), ResultsStore.read(resultsFile(dirs[1]!)));
    process.stdout.write(values.format === 'json' ? `${JSON.stringify(diff, null, 2)}\n` : renderDiffMarkdown(diff));
    return diff.newlyFailing.length ? 1 : 0;
  }
  throw new UsageError(`report: expected 'merge' or 'diff'\n\n${REPORT_HELP}`);
}
