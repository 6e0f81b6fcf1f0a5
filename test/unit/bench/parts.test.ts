import { describe, expect, it } from 'vitest';
import { BENCH_PARTS, selectedParts } from '../../../bench/parts.ts';

describe('selectedParts', () => {
  it('runs every part by default', () => {
    expect([...selectedParts({})]).toEqual([...BENCH_PARTS]);
    expect([...selectedParts({ BENCH_ONLY: ' ', BENCH_SKIP: '' })]).toEqual([...BENCH_PARTS]);
  });

  it('leaves out what BENCH_SKIP names', () => {
    expect([...selectedParts({ BENCH_SKIP: 'virtme-ng, parallel' })]).toEqual(['microvm', 'net-ceiling', 'modcost', 'cells', 'full-os']);
  });

  it('runs only what BENCH_ONLY names, in the bench order, minus BENCH_SKIP', () => {
    expect([...selectedParts({ BENCH_ONLY: 'virtme-ng,microvm' })]).toEqual(['microvm', 'virtme-ng']);
    expect([...selectedParts({ BENCH_ONLY: 'virtme-ng,microvm', BENCH_SKIP: 'microvm' })]).toEqual(['virtme-ng']);
  });

  it('fails on a name that is no part, naming the parts', () => {
    expect(() => selectedParts({ BENCH_SKIP: 'virtme' })).toThrow('BENCH_SKIP: no bench part named virtme (parts: microvm, net-ceiling, modcost, cells, full-os, parallel, virtme-ng)');
  });
});
