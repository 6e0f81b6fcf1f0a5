import { describe, expect, it } from 'vitest';
import { tcgThreading } from '../../../harness/vm/qemu/tcg-threading.ts';

describe('tcgThreading', () => {
  it('runs TCG vCPUs on one host thread unless told otherwise (the multi-thread int3 livelock)', () => {
    expect(tcgThreading({})).toBe('single');
    expect(tcgThreading({ TOA_LAB_TCG_THREAD: '' })).toBe('single');
    expect(tcgThreading({ TOA_LAB_TCG_THREAD: 'single' })).toBe('single');
  });

  it('takes TOA_LAB_TCG_THREAD=multi, and refuses anything else by name', () => {
    expect(tcgThreading({ TOA_LAB_TCG_THREAD: 'multi' })).toBe('multi');
    expect(() => tcgThreading({ TOA_LAB_TCG_THREAD: 'mttcg' })).toThrow(/TOA_LAB_TCG_THREAD=mttcg: expected single or multi/);
  });
});
