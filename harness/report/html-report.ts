import type { ResultRecord } from './results-store.ts';
import { scenarioPassed, type Check, type ScenarioOutcome } from '../core/scenario.ts';
import type { StepResult } from '../core/step.ts';

/**
 * report.html: one self-contained page (no scripts, no external assets) with
 * the cell × scenario matrix on top; each matrix cell links to its details,
 * where every check's evidence (log lines, dmesg, console excerpts, compiler
 * errors) sits one click away in a <details> element.
 */
export function renderHtmlReport(records: readonly ResultRecord[], context: { title: string; notes: string[] }): string {
  const cells = [...new Set(records.map((r) => r.cell))];
  const scenarios = [...new Set(records.map((r) => r.outcome.scenario))];
  const passed = records.filter((r) => scenarioPassed(r.outcome)).length;
  const find = (cell: string, scenario: string): ResultRecord | undefined =>
    records.find((r) => r.cell === cell && r.outcome.scenario === scenario);

  const matrix = `<table id="matrix">
<thead><tr><th>scenario</th>${cells.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead>
<tbody>
${scenarios
  .map(
    (scenario) =>
      `<tr><th scope="row">${esc(scenario)}</th>${cells
        .map((cell) => {
          const record = find(cell, scenario);
          if (!record) return '<td class="none">—</td>';
          if (record.outcome.skipped !== undefined) return `<td class="none"><a href="#${anchor(cell, scenario)}">skip</a></td>`;
          const ok = scenarioPassed(record.outcome);
          return `<td class="${ok ? 'pass' : 'fail'}"><a href="#${anchor(cell, scenario)}">${ok ? 'pass' : 'FAIL'}</a><small>${seconds(record.outcome.durationMs)}</small></td>`;
        })
        .join('')}</tr>`,
  )
  .join('\n')}
</tbody></table>`;

  const details = records.map((r) => renderOutcome(r.cell, r.outcome)).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(context.title)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:.35em .7em;text-align:left;vertical-align:top}
td.pass{background:#e6f6e6}td.fail{background:#fbe3e3;font-weight:bold}td.none{color:#999}
td small{display:block;color:#666;font-weight:normal}
.check.fail{color:#a00}pre{background:#f6f6f6;padding:.6em;overflow:auto;max-height:30em;font-size:12px}
section{border-top:1px solid #ddd;margin-top:1.5em}
.badge{font-size:11px;font-weight:bold;padding:1px 5px;border-radius:3px;color:#fff}.badge.pass{background:#2a7d2a}.badge.fail{background:#b00}.badge.note{background:#a66a00}
</style></head><body>
<h1>${esc(context.title)}</h1>
<ul>${context.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>
<p id="summary"><strong>${passed} passed, ${records.length - passed} failed</strong></p>
${matrix}
${details}
</body></html>
`;
}

function renderOutcome(cell: string, outcome: ScenarioOutcome): string {
  const ok = scenarioPassed(outcome);
  return `<section id="${anchor(cell, outcome.scenario)}">
<h2>${badge(ok)} ${esc(cell)} · ${esc(outcome.scenario)}</h2>
<p>${esc(outcome.title)} — ${seconds(outcome.durationMs)}</p>
${outcome.error ? `<p class="check fail">error: ${esc(outcome.error)}</p>` : ''}
${outcome.skipped !== undefined ? `<p>skipped: ${esc(outcome.skipped)}</p>` : ''}
${outcome.steps?.length ? renderSteps(outcome.steps) : ''}
<ul>${outcome.checks.map(renderCheck).join('\n')}</ul>
</section>`;
}

function renderSteps(steps: readonly StepResult[]): string {
  return `<table class="steps"><thead><tr><th>step</th><th>status</th><th>duration</th><th>summary</th></tr></thead><tbody>
${steps
  .map(
    (s) =>
      `<tr><td>${esc(s.name)}</td><td>${s.status}</td><td>${seconds(s.durationMs)}</td><td>${esc(s.summary)}${
        s.commands.length || s.evidence
          ? `<details><summary>output</summary><pre>${esc(
              [...s.commands.map((c) => `$ ${c.command}  # exit ${c.exitCode}, ${c.durationMs} ms\n${c.stdout}${c.stderr}`), s.evidence ?? ''].join('\n'),
            )}</pre></details>`
          : ''
      }</td></tr>`,
  )
  .join('\n')}
</tbody></table>`;
}

function renderCheck(check: Check): string {
  const mark = check.informational ? `<span class="badge note">${check.passed ? 'NOTE' : 'FINDING'}</span>` : badge(check.passed);
  return `<li class="check ${check.passed || check.informational ? 'pass' : 'fail'}">${mark} <strong>${esc(check.name)}</strong> — expected ${esc(
    check.expected,
  )}; observed ${esc(check.observed)}${
    check.evidence ? `<details><summary>evidence</summary><pre>${esc(check.evidence)}</pre></details>` : ''
  }</li>`;
}

/** Text badges, not emoji: a CI runner's browser may have no emoji font. */
function badge(passed: boolean): string {
  return `<span class="badge ${passed ? 'pass' : 'fail'}">${passed ? 'PASS' : 'FAIL'}</span>`;
}

function anchor(cell: string, scenario: string): string {
  return `${cell}--${scenario}`.replace(/[^\w-]/g, '_');
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
