import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OS_PROFILES } from '../../../harness/os/index.ts';
import { hasShellcheck, renderVariants } from './helpers.ts';

/**
 * ShellCheck on every rendered script, verify script and script-like file, with the dialect
 * of its interpreter: zero findings. (scripts/install-deps.sh installs Debian's shellcheck.)
 */
const available = hasShellcheck();
if (!available) console.warn('shellcheck is not installed (apt-get install shellcheck): rendered scripts are NOT linted');

/**
 * The guide's toa.modules / boot.local lines test `$?` after modinfo (SC2181, style). They
 * are kept as the guide writes them, so that one finding is excepted in those files only.
 */
const GUIDE_TEXT_EXCLUSIONS = ['SC2181'];

interface Target {
  label: string;
  path: string;
  dialect: 'sh' | 'bash';
  exclude: string[];
}

describe.skipIf(!available)('shellcheck', () => {
  const dir = mkdtempSync(join(tmpdir(), 'toa-lab-shellcheck-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const targets: Target[] = [];
  for (const profile of OS_PROFILES) {
    for (const [stem, step] of renderVariants(profile)) {
      const dialect = step.interpreter === '/bin/bash' ? 'bash' : 'sh';
      const scripts: Array<[string, string, string[]]> = [[`${stem}.sh`, step.script, []]];
      if (step.verify) scripts.push([`${stem}.verify.sh`, step.verify, []]);
      for (const file of step.files ?? []) {
        if (file.content.startsWith('#!/bin/sh')) scripts.push([`${stem}.files${file.path}`, file.content, GUIDE_TEXT_EXCLUSIONS]);
      }
      for (const [name, content, exclude] of scripts) {
        const path = join(dir, profile.id, name.replaceAll('/', '_'));
        mkdirSync(join(dir, profile.id), { recursive: true });
        writeFileSync(path, content);
        targets.push({ label: `${profile.id}/${name}`, path, dialect, exclude });
      }
    }
  }

  it(`finds nothing in ${targets.length} rendered scripts`, () => {
    expect(targets.length).toBeGreaterThan(300);
    const groups = new Map<string, Target[]>();
    for (const t of targets) {
      const key = `${t.dialect}|${t.exclude.join(',')}`;
      groups.set(key, [...(groups.get(key) ?? []), t]);
    }
    const findings: string[] = [];
    for (const [key, group] of groups) {
      const [dialect, exclude] = key.split('|') as [string, string];
      const args = ['-s', dialect, '-f', 'gcc', ...(exclude ? ['-e', exclude] : []), ...group.map((t) => t.path)];
      const result = spawnSync('shellcheck', args, { encoding: 'utf8' });
      if (result.status !== 0) findings.push(result.stdout || result.stderr);
    }
    expect(findings.join('\n')).toBe('');
  });

  it('lints the toa.modules file for real (the exclusion hides only SC2181)', () => {
    const path = join(dir, 'bad.sh');
    writeFileSync(path, '#!/bin/sh\nrm -rf $1\n');
    const result = spawnSync('shellcheck', ['-s', 'sh', '-f', 'gcc', '-e', GUIDE_TEXT_EXCLUSIONS.join(','), path], { encoding: 'utf8' });
    expect(result.stdout).toContain('SC2086');
  });
});
