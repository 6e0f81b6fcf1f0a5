import { scenarioPassed, type ScenarioOutcome } from './scenario.ts';

/**
 * One word for a vendor: did the module not build, not load, crash the guest,
 * report a wrong address — or pass everything.
 */
export function moduleVerdict(outcomes: readonly ScenarioOutcome[]): string {
  const checks = outcomes.flatMap((o) => o.checks);
  if (checks.some((c) => c.name.startsWith('toa.ko loads') && !c.passed)) return 'did not load';
  if (checks.some((c) => c.name.startsWith('kernel unhurt') && !c.passed) || outcomes.some((o) => /agent|did not come up|no longer answers/.test(o.error ?? ''))) {
    return 'crashed the guest';
  }
  if (!outcomes.every(scenarioPassed)) return 'loaded but reported a wrong address (see the failing checks)';
  return 'passed';
}
