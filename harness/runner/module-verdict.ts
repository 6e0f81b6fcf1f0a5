import { scenarioPassed, type Check, type ScenarioOutcome } from '../core/scenario.ts';
import type { CellFacts } from './cell.ts';

const PASSED = 'passed';

/**
 * One word for a vendor: did the module not build, not load, stop half-way
 * in its init, crash the guest, report a wrong address — or pass everything.
 * Decided on typed fields (the check's kind, the outcome's failure), never on
 * their display text.
 *
 * - The first load failure in the cell decides between "did not load" and
 *   "init incomplete": later scenarios reload the module, so what went wrong
 *   first is the cause and the rest follows from it.
 * - "init incomplete on reload": the module had loaded whole earlier in the
 *   same guest (a passed load check before the incomplete one) — the first
 *   load worked, a later insmod left it half-hooked (an init returning a
 *   positive value: the kernel keeps such a module).
 */
export function moduleVerdict(outcomes: readonly ScenarioOutcome[]): string {
  const checks = outcomes.flatMap((o) => o.checks);
  const firstLoadFailure = checks.findIndex((c) => isLoadCheck(c) && !c.passed);
  if (firstLoadFailure >= 0) {
    if (checks[firstLoadFailure]!.kind === 'module-load') return 'did not load';
    const loadedBefore = checks.slice(0, firstLoadFailure).some((c) => isLoadCheck(c) && c.passed);
    return loadedBefore ? 'init incomplete on reload' : 'init incomplete';
  }
  if (checks.some((c) => c.kind === 'kernel-faults' && !c.passed) || outcomes.some((o) => o.failure === 'guest-gone')) return 'crashed the guest';
  if (!outcomes.every(scenarioPassed)) return 'loaded but reported a wrong address (see the failing checks)';
  return PASSED;
}

function isLoadCheck(check: Check): boolean {
  return check.kind === 'module-load' || check.kind === 'module-init-incomplete';
}

/**
 * The verdict and the words behind it, as the cell's facts (results.jsonl → the module × kernel
 * compatibility table): the first failing load check's own line (the kernel's about its init, a
 * refusal's dmesg or insmod line), the first kernel fault, or the first failing check's
 * observation — picked by the same typed fields as the verdict.
 */
export function moduleFacts(outcomes: readonly ScenarioOutcome[]): Pick<CellFacts, 'moduleVerdict' | 'moduleStatus'> & Partial<Pick<CellFacts, 'moduleWords'>> {
  const moduleVerdictText = moduleVerdict(outcomes);
  const moduleStatus = moduleVerdictText === PASSED ? 'passed' : 'failed';
  const checks = outcomes.flatMap((o) => o.checks).filter((c) => !c.informational);
  const decisive =
    checks.find((c) => isLoadCheck(c) && !c.passed) ??
    checks.find((c) => c.kind === 'kernel-faults' && !c.passed) ??
    checks.find((c) => !c.passed);
  const fault = checks.find((c) => c.kind === 'kernel-faults' && !c.passed);
  const gone = outcomes.find((o) => o.failure === 'guest-gone');
  // A guest that stopped answering without a fault line: the runner's words for it, not a later check's.
  const words =
    gone && !fault && !checks.some((c) => isLoadCheck(c) && !c.passed)
      ? gone.error
      : decisive
        ? (decisive.said ?? `${decisive.name}: ${decisive.observed}`)
        : outcomes.find((o) => o.error)?.error;
  return words && moduleStatus !== 'passed' ? { moduleVerdict: moduleVerdictText, moduleStatus, moduleWords: words } : { moduleVerdict: moduleVerdictText, moduleStatus };
}
