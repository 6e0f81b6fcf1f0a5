import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { toaLabVersion } from '../version.ts';
import { RESULTS_FORMAT_VERSION, ResultsStore, type ResultRecord } from './results-store.ts';

/**
 * Merges the results of several runs (CI shards) into one set. Refuses
 * records from another toa-lab version or results format, saying which file
 * and which version, and refuses a cell × scenario reported twice.
 */
export function mergeResultDirs(dirs: readonly string[]): ResultRecord[] {
  const merged: ResultRecord[] = [];
  const seenIn = new Map<string, string>();
  for (const dir of dirs) {
    const path = resultsFile(dir);
    ResultsStore.read(path).forEach((record, index) => {
      const where = `${path}:${index + 1}`;
      if (record.formatVersion !== RESULTS_FORMAT_VERSION || record.toaLabVersion !== toaLabVersion()) {
        throw new Error(
          `${where} was written by toa-lab ${record.toaLabVersion ?? 'unknown'} (results format ${record.formatVersion}); ` +
            `this is toa-lab ${toaLabVersion()} (results format ${RESULTS_FORMAT_VERSION}): merge shards from one version`,
        );
      }
      const key = `${record.cell} × ${record.outcome.scenario}`;
      const earlier = seenIn.get(key);
      if (earlier) throw new Error(`${key} is reported twice: in ${earlier} and in ${where} (overlapping shards?)`);
      seenIn.set(key, where);
      merged.push(record);
    });
  }
  return merged;
}

/** A run's folder, or its results.jsonl directly. */
export function resultsFile(dirOrFile: string): string {
  const path = dirOrFile.endsWith('.jsonl') ? dirOrFile : join(dirOrFile, 'results.jsonl');
  if (!existsSync(path)) throw new Error(`no results at ${path} (expected a toa-lab run folder)`);
  return path;
}
