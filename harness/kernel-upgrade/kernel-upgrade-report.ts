import { formatStepTable } from '../lab/full-os-conformance.ts';
import type { KernelUpgradeRun } from './kernel-upgrade-case.ts';
import { describeObservation } from './module-observation.ts';

/** Every step passed and every check held (informational findings aside). */
export function kernelUpgradeHeld(run: KernelUpgradeRun): boolean {
  return run.completed && run.checks.every((c) => c.passed || c.informational);
}

/** One case as Markdown: kernels, the step table, what the guest showed, the checks. */
export function formatKernelUpgradeRun(run: KernelUpgradeRun): string {
  const lines = [
    `## kernel upgrade, remedy: ${run.remedy} — ${kernelUpgradeHeld(run) ? 'held' : 'FAILED'}`,
    '',
    `${run.from?.release ?? '?'} (${run.from?.version ?? '?'}) → ${run.to?.release ?? '?'} (${run.to?.version ?? '?'}, ${run.to?.pocket ?? '?'})`,
    '',
    formatStepTable(run.steps),
    '',
  ];
  if (run.afterUpgrade) {
    lines.push(`After the upgrade's reboot: ${describeObservation(run.afterUpgrade)}`, '');
    if (run.afterUpgrade.modulesLoadJournal.length) lines.push('systemd-modules-load, that boot:', '```', ...run.afterUpgrade.modulesLoadJournal, '```', '');
  }
  if (run.afterRemedy) lines.push(`After the second reboot: ${describeObservation(run.afterRemedy)}`, '');
  lines.push(...run.checks.map((c) => `- ${c.passed ? 'ok' : 'NOT OK'} ${c.name}: ${c.observed}`), '');
  return lines.join('\n');
}
