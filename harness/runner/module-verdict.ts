import { scenarioPassed, type ScenarioOutcome } from '../core/scenario.ts';

/**
 * One word for a vendor: did the module not build, not load, crash the guest,
 * report a wrong address — or pass everything. Decided on typed fields (the
 * check's kind, the outcome's failure), never on their display text.
 */
export function moduleVerdict(outcomes: readonly ScenarioOutcome[]): string {
  const checks = outcomes.flatMap((o) => o.checks);
  if (checks.some((c) => c.kind === 'module-load' && !c.passed)) return 'did not load';
  if (checks.some((c) => c.kind === 'kernel-faults' && !c.passed) || outcomes.some((o) => o.failure === 'guest-gone')) return 'crashed the guest';
  if (!outcomes.every(scenarioPassed)) return 'loaded but reported a wrong address (see the failing checks)';
  return 'passed';
}
