import { parseArgs } from 'node:util';
import { cacheRoot } from '../cache/artifact-cache.ts';
import { listCache, pruneCache, type CacheEntry } from '../cache/cache-inventory.ts';
import { UsageError } from '../runner/run-scenarios.ts';

export const CACHE_HELP = `usage: toa-lab cache list
       toa-lab cache prune [--older-than DAYS] [--dry-run]

The artefact cache (\${TOA_LAB_CACHE:-~/.cache/toa-lab}): one folder per kind and recipe hash
(micro-VM images, whole-OS images, suite chroots, patched kernels).

  list    every entry: kind, hash, size, date completed (partial: a build that was interrupted)
  prune   per kind, keeps the newest complete entry and removes the others (with --older-than,
          only those not completed within DAYS days), and interrupted builds whose process is
          gone. Shared downloads (apt-index, debs, kernel-index) are kept. A run that needs a
          removed entry rebuilds it.
          --dry-run prints what would go
`;

export async function cacheCommand(args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { 'older-than': { type: 'string' }, 'dry-run': { type: 'boolean' } },
  });
  switch (positionals[0]) {
    case 'list': {
      const entries = listCache();
      process.stdout.write(`# ${cacheRoot()}\n`);
      for (const e of entries) process.stdout.write(`${line(e)}\n`);
      process.stdout.write(`# ${entries.length} entries, ${size(entries.reduce((sum, e) => sum + e.bytes, 0))}\n`);
      return 0;
    }
    case 'prune': {
      const days = values['older-than'] === undefined ? undefined : Number(values['older-than']);
      if (days !== undefined && !(days >= 0)) throw new UsageError(`--older-than wants a number of days, got '${values['older-than']}'`);
      const removed = pruneCache({ ...(days !== undefined && { olderThanDays: days }), dryRun: values['dry-run'] === true });
      const verb = values['dry-run'] ? 'would remove' : 'removed';
      for (const e of removed) process.stdout.write(`${verb} ${line(e)}\n`);
      process.stdout.write(`# ${verb} ${removed.length} entries, ${size(removed.reduce((sum, e) => sum + e.bytes, 0))}\n`);
      return 0;
    }
    default:
      throw new UsageError(`cache: expected 'list' or 'prune'\n\n${CACHE_HELP}`);
  }
}

function line(e: CacheEntry): string {
  return `${e.kind.padEnd(22)} ${e.hash.padEnd(18)} ${size(e.bytes).padStart(9)}  ${e.modified.toISOString().slice(0, 16).replace('T', ' ')}${e.state === 'partial' ? '  partial' : ''}`;
}

function size(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}
