/**
 * Deterministic sharding for CI matrices: the run's (image, scenario) pairs
 * in their canonical order, pair k going to shard (k mod n) + 1. Every shard
 * computes the same split from the same inputs with no coordination, the
 * union of all shards is the whole run, and no pair runs twice.
 */
import type { Shard } from '../core/plan.ts';

export type { Shard } from '../core/plan.ts';

export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text);
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || index < 1 || index > count) {
    throw new Error(`--shard wants i/n with 1 ≤ i ≤ n (e.g. 2/4), got '${text}'`);
  }
  return { index, count };
}

export function shardPairs<T>(pairs: readonly T[], shard: Shard | undefined): T[] {
  if (!shard) return [...pairs];
  return pairs.filter((_, k) => k % shard.count === shard.index - 1);
}
