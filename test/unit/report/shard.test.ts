import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseShard, shardPairs } from '../../../harness/runner/shard.ts';

describe('sharding', () => {
  it('splits pairs so that the shards cover everything exactly once', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 1, max: 9 }), (size, count) => {
        const pairs = Array.from({ length: size }, (_, i) => i);
        const all = Array.from({ length: count }, (_, i) => shardPairs(pairs, { index: i + 1, count })).flat();
        expect(all.sort((a, b) => a - b)).toEqual(pairs);
      }),
    );
  });

  it('parses i/n and rejects what is not a shard', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    for (const bad of ['0/2', '3/2', '1/0', 'x', '1-2']) expect(() => parseShard(bad)).toThrow(/--shard wants i\/n/);
  });
});
