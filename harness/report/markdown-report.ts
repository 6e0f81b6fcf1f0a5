import type { ResultRecord } from './results-store.ts';
import { scenarioPassed } from '../core/scenario.ts';

/** report.md: the cell × scenario matrix, then each scenario's checks with their evidence. */
export function renderMarkdownReport(records: readonly ResultRecord[], context: { title: string; notes: string[] }): string {
  const cells = [...new Set(records.map((r) => r.cell))];
  const scenarios = [...new Set(records.map((r) => r.outcome.scenario))];
  const lines = [`# ${context.title}`, '', ...context.notes.map((n) => `- ${n}`), ''];
  lines.push(`| scenario | ${cells.join(' | ')} |`, `|---|${cells.map(() => '---').join('|')}|`);
  for (const scenario of scenarios) {
    const row = cells.map((cell) => {
      const record = records.find((r) => r.cell === cell && r.outcome.scenario === scenario);
      if (!record) return '—';
      if (record.outcome.skipped !== undefined) return '➖ skip';
      return `${scenarioPassed(record.outcome) ? '✅ pass' : '❌ FAIL'} (${(record.outcome.durationMs / 1000).toFixed(1)} s)`;
    });
    lines.push(`| ${scenario} | ${row.join(' | ')} |`);
  }
  const passed = records.filter((r) => scenarioPassed(r.outcome)).length;
  lines.push('', `**${passed} passed, ${records.length - passed} failed**`, '');

  for (const record of records) {
    const o = record.outcome;
    lines.push(`## ${record.cell} · ${o.scenario}: ${o.title}`, '');
    if (o.error) lines.push(`**Error:** \`${o.error}\``, '');
    if (o.skipped !== undefined) lines.push(`Skipped: ${o.skipped}`, '');
    for (const step of o.steps ?? []) {
      lines.push(`- step **${step.name}**: ${step.status} in ${(step.durationMs / 1000).toFixed(1)} s — ${step.summary}`);
      if (step.evidence) lines.push('', '  ```', ...step.evidence.trimEnd().split('\n').map((l) => `  ${l}`), '  ```');
    }
    for (const c of o.checks) {
      lines.push(`- ${c.informational ? (c.passed ? 'ℹ️ note' : '⚠️ finding') : c.passed ? '✅' : '❌'} **${c.name}** — expected ${c.expected}; observed ${c.observed}`);
      if (c.evidence) lines.push('', '  ```', ...c.evidence.trimEnd().split('\n').map((l) => `  ${l}`), '  ```');
    }
    lines.push('');
  }
  return lines.join('\n');
}
