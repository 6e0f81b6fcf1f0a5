import type { CellNotes, ResultRecord } from './results-store.ts';
import type { RunPlan } from '../core/plan.ts';
import { countStatuses, describeCounts, outcomeStatus } from './outcome-status.ts';
import { compatibilityTable, renderCompatibilityMarkdown } from './compatibility-table.ts';
import { mechanismsTable, renderMechanismsMarkdown } from './mechanisms-table.ts';

/**
 * summary.md: the title, the counts and the matrix — small enough for a CI job
 * summary ($GITHUB_STEP_SUMMARY), where the full report.md's evidence would not fit.
 */
export function renderMarkdownSummary(records: readonly ResultRecord[], context: Parameters<typeof renderMarkdownReport>[1]): string {
  const full = renderMarkdownReport(records, context);
  const firstDetail = full.indexOf('\n## ');
  return firstDetail < 0 ? full : `${full.slice(0, firstDetail)}\n\nEvidence for every check: report.html and report.md in the run's artefacts.\n`;
}

/** report.md: the module × kernel compatibility table, the mechanisms × backend table, the cell × scenario matrix, then each scenario's checks with their evidence. */
export function renderMarkdownReport(records: readonly ResultRecord[], context: { title: string; notes: string[]; plan?: RunPlan; cells?: ReadonlyMap<string, CellNotes> }): string {
  const cells = [...new Set(records.map((r) => r.cell))];
  const scenarios = [...new Set(records.map((r) => r.outcome.scenario))];
  const lines = [`# ${context.title}`, '', ...context.notes.map((n) => `- ${n}`), ''];
  const compatibility = compatibilityTable(records, context.cells, context.plan);
  if (compatibility) lines.push(...renderCompatibilityMarkdown(compatibility));
  const mechanisms = mechanismsTable(records, context.cells);
  if (mechanisms) lines.push(...renderMechanismsMarkdown(mechanisms));
  const head = (cell: string): string => {
    const notes = context.cells?.get(cell);
    const extra = [notes?.kernel, notes?.moduleVerdict && `module: ${notes.moduleVerdict}`].filter(Boolean);
    return extra.length ? `${cell}<br>${extra.join('<br>')}` : cell;
  };
  lines.push(`| scenario | ${cells.map(head).join(' | ')} |`, `|---|${cells.map(() => '---').join('|')}|`);
  for (const scenario of scenarios) {
    const row = cells.map((cell) => {
      const record = records.find((r) => r.cell === cell && r.outcome.scenario === scenario);
      if (!record) return '—';
      const status = outcomeStatus(record.outcome);
      if (status === 'skipped') return '➖ skip';
      if (status === 'not-run') return '⏸️ not run';
      return `${status === 'passed' ? '✅ pass' : '❌ FAIL'} (${(record.outcome.durationMs / 1000).toFixed(1)} s)`;
    });
    lines.push(`| ${scenario} | ${row.join(' | ')} |`);
  }
  lines.push('', `**${describeCounts(countStatuses(records, context.plan))}**`, '');

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
