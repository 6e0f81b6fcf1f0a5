import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { OS_PROFILES, type ProcedureStep } from '../../../harness/os/index.ts';
import { renderVariants } from './helpers.ts';

/**
 * Every rendered script, verify script and written file, pinned byte for byte:
 *   golden/<profile>/<stem>.sh           the step's script (the UserData form too)
 *   golden/<profile>/<stem>.verify.sh    its verify script, for variants only where it differs
 *   golden/<profile>/<stem>.files/<abs>  each file it writes (mode in <abs>.mode); for the
 *                                        UserData form only the script (its files are the
 *                                        files form's, see guide-fields.test.ts)
 * Regenerate after an intended change with `UPDATE_GOLDEN=1 npx vitest run test/unit/os`
 * and review the diff.
 */
const GOLDEN_DIR = join(dirname(fileURLToPath(import.meta.url)), 'golden');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

function goldenEntries(stem: string, step: ProcedureStep, defaultStep: ProcedureStep | undefined): Array<[string, string]> {
  const entries: Array<[string, string]> = [[`${stem}.sh`, step.script]];
  if (step.verify && step.verify !== defaultStep?.verify) entries.push([`${stem}.verify.sh`, step.verify]);
  if (stem.endsWith('.cloud-init')) return entries;
  for (const file of step.files ?? []) {
    entries.push([`${stem}.files${file.path}`, file.content]);
    if (file.mode !== undefined) entries.push([`${stem}.files${file.path}.mode`, `${file.mode.toString(8).padStart(4, '0')}\n`]);
  }
  return entries;
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

describe('golden renderings', () => {
  if (UPDATE) rmSync(GOLDEN_DIR, { recursive: true, force: true });

  for (const profile of OS_PROFILES) {
    it(`${profile.id}: every step, form and file matches golden/${profile.id}/`, () => {
      const dir = join(GOLDEN_DIR, profile.id);
      const variants = renderVariants(profile);
      const expected = new Map(
        [...variants].flatMap(([stem, step]) => goldenEntries(stem, step, stem === step.id ? undefined : variants.get(step.id))),
      );
      if (UPDATE) {
        for (const [name, content] of expected) {
          mkdirSync(dirname(join(dir, name)), { recursive: true });
          writeFileSync(join(dir, name), content);
        }
      }
      const missing = [...expected.keys()].filter((name) => !existsSync(join(dir, name)));
      expect(missing, 'golden files missing: run with UPDATE_GOLDEN=1 and review the diff').toEqual([]);
      const stale = listFiles(dir).map((path) => relative(dir, path)).filter((name) => !expected.has(name));
      expect(stale, 'golden files no longer rendered: run with UPDATE_GOLDEN=1').toEqual([]);
      for (const [name, content] of expected) {
        expect(content, `golden/${profile.id}/${name} (UPDATE_GOLDEN=1 to accept)`).toBe(readFileSync(join(dir, name), 'utf8'));
      }
    });
  }

  it('has no golden folder for a profile that does not exist', () => {
    const known = new Set(OS_PROFILES.map((p) => p.id));
    expect(existsSync(GOLDEN_DIR) ? readdirSync(GOLDEN_DIR).filter((d) => !known.has(d)) : []).toEqual([]);
  });
});
