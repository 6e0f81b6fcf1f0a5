import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ScenarioOutcome } from '../core/scenario.ts';
import { toaLabVersion } from '../version.ts';

/**
 * results.jsonl: one JSON line per finished scenario, appended and flushed the
 * moment it finishes, so a crash or Ctrl-C keeps everything that finished.
 */
export const RESULTS_FORMAT_VERSION = 1;

export interface ResultRecord {
  formatVersion: number;
  /** The toa-lab version that produced the record (package.json). */
  toaLabVersion: string;
  cell: string;
  finishedAt: string;
  outcome: ScenarioOutcome;
}

export class ResultsStore {
  readonly path: string;

  /** A new run's store: an earlier run's results in the same folder are replaced, never mixed in. */
  constructor(outDir: string) {
    mkdirSync(outDir, { recursive: true });
    this.path = join(outDir, 'results.jsonl');
    writeFileSync(this.path, '');
  }

  append(cell: string, outcome: ScenarioOutcome): void {
    const record: ResultRecord = {
      formatVersion: RESULTS_FORMAT_VERSION,
      toaLabVersion: toaLabVersion(),
      cell,
      finishedAt: new Date().toISOString(),
      outcome,
    };
    appendFileSync(this.path, JSON.stringify(record) + '\n');
  }

  static read(path: string): ResultRecord[] {
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as ResultRecord);
  }
}
