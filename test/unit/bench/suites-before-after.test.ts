import { describe, expect, it } from 'vitest';
import { describeSuites, testDurations, type SuiteRun } from '../../../bench/suites-before-after.ts';

const run = (seconds: number, tests: Record<string, number> = {}): SuiteRun => ({ seconds, passed: true, tests });

describe('the test suites before and after, side by side', () => {
  it("reads vitest's JSON report: each test's full name and duration", () => {
    const report = JSON.stringify({ testResults: [{ assertionResults: [{ fullName: 'a b', duration: 1500 }, { fullName: 'a c', duration: null }] }] });
    expect(testDurations(report)).toEqual({ 'a b': 1.5, 'a c': 0 });
  });

  it('compares whole files, and apart from that only the tests both trees have', () => {
    const figures = new Map([
      ['typecheck', { before: [run(20)], after: [run(30)] }],
      ['toa-data-path.test.ts', { before: [run(300, { 'bookworm load': 60, 'bullseye v4': 5 })], after: [run(400, { 'bookworm load': 30, 'bullseye v4': 5, '7.2 v4': 90 })] }],
    ]);
    const lines = describeSuites(figures);
    expect(lines).toContain('| toa-data-path.test.ts | 300.0 | 400.0 | ×1.33 |');
    expect(lines).toContain('| **all of them** | **320** | **430** | **×1.34** |');
    expect(lines).toContain('| toa-data-path.test.ts | 2 | 65.0 | 35.0 | ×0.54 | 90.0 (1 tests) |');
  });
});
