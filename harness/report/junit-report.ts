import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { ResultRecord } from './results-store.ts';
import { TapWriter } from './tap-writer.ts';

/**
 * JUnit XML, one file per matrix cell (junit/<cell>.xml), produced from that
 * cell's TAP by tap-junit — the same TAP a person reads on stdout, so the two
 * can never disagree. tap-junit is run as its CLI: its library form exits the
 * process when a test failed.
 */
export async function writeJUnitReports(records: readonly ResultRecord[], outDir: string): Promise<string[]> {
  const dir = join(outDir, 'junit');
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const cell of [...new Set(records.map((r) => r.cell))]) {
    let tap = '';
    const writer = new TapWriter((text) => (tap += text));
    for (const record of records.filter((r) => r.cell === cell)) writer.outcome(cell, record.outcome);
    writer.end();
    const file = join(dir, `${safeFileName(cell)}.xml`);
    writeFileSync(file, await runTapJunit(tap, cell));
    written.push(file);
  }
  return written;
}

export function safeFileName(cell: string): string {
  return cell.replace(/[^\w.-]/g, '_');
}

/**
 * tap-junit's XML for one cell's TAP, read from its stdout: we name the file
 * ourselves, since tap-junit cuts names at their dots (a kernel release has several).
 */
function runTapJunit(tap: string, cell: string): Promise<string> {
  const bin = createRequire(import.meta.url).resolve('tap-junit/bin/tap-junit');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, '--name', cell, '--classname', cell], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 && stdout.trimStart().startsWith('<?xml')
        ? resolve(stdout)
        : reject(new Error(`tap-junit failed (exit ${code}): ${stderr || stdout}`)),
    );
    child.stdin.end(tap);
  });
}
