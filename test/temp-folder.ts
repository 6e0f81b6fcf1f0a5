import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Vitest global setup: every temporary folder a test (or a toa-lab run it
 * starts) makes with os.tmpdir() lands in one folder of this test run, removed
 * when the run ends. The workers and their children inherit TMPDIR.
 */
export default function setup(): () => void {
  const folder = mkdtempSync(join(tmpdir(), 'toa-lab-tests-'));
  process.env['TMPDIR'] = folder;
  return () => rmSync(folder, { recursive: true, force: true });
}
