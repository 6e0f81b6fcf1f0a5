import { describe, expect, it } from 'vitest';
import { vcpusPerGuest } from '../../../harness/runner/guest-cpus.ts';

describe('vCPUs per guest when several run at once', () => {
  it('gives a guest alone two vCPUs, whatever the host', () => {
    expect(vcpusPerGuest(2, 1)).toBe(2);
    expect(vcpusPerGuest(64, 1)).toBe(2);
  });

  it('shares the cores out: three guests on two cores get one each, never zero', () => {
    expect(vcpusPerGuest(2, 2)).toBe(1);
    expect(vcpusPerGuest(2, 3)).toBe(1);
    expect(vcpusPerGuest(1, 1)).toBe(1);
    expect(vcpusPerGuest(8, 4)).toBe(2);
    expect(vcpusPerGuest(8, 6)).toBe(1);
  });

  it('treats "no guests" as one', () => {
    expect(vcpusPerGuest(2, 0)).toBe(2);
  });
});
