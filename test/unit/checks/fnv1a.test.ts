import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fnv1a64, fnv1a64Reference } from '../../../harness/client/fnv1a.ts';

describe('fnv1a64', () => {
  it('matches the published FNV-1a 64 test vectors', () => {
    expect(fnv1a64(Buffer.from(''))).toBe('cbf29ce484222325');
    expect(fnv1a64(Buffer.from('a'))).toBe('af63dc4c8601ec8c');
    expect(fnv1a64(Buffer.from('foobar'))).toBe('85944171f73967e8');
  });

  it('agrees with the BigInt reference on arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => fnv1a64(bytes) === fnv1a64Reference(bytes)));
  });
});
