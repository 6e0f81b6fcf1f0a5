import type { RunPlan } from '../core/plan.ts';
import type { Check, ScenarioOutcome } from '../core/scenario.ts';
import type { StepResult } from '../core/step.ts';
import { countStatuses, describeCounts, outcomeStatus, unreported, type OutcomeStatus } from './outcome-status.ts';
import type { CellNotes, ResultRecord } from './results-store.ts';
import { compatibilityTable, renderCompatibilityHtml } from './compatibility-table.ts';
import { mechanismsTable, renderMechanismsHtml } from './mechanisms-table.ts';

/**
 * report.html: one self-contained page (no scripts, no external assets):
 * - the counts, kept apart: passed, failed, skipped, not run (a skip is no pass);
 * - the module × kernel compatibility table (compatibility-table.ts), when the cells name their module;
 * - the mechanisms × backend table (mechanisms-table.ts): TOA module, eBPF TOA, PROXY, DSR per image;
 * - the cell × scenario matrix, each column headed by the cell, its kernel
 *   release, the module verdict and a link to its serial console log; each
 *   matrix cell links to its details;
 * - where the time went: per cell, one bar of its scenarios (and the guide's
 *   steps inside them), widths by duration;
 * - each scenario's checks with their evidence one click away (<details>).
 */
export interface HtmlReportContext {
  title: string;
  notes: string[];
  cells?: ReadonlyMap<string, CellNotes>;
  plan?: RunPlan;
}

export function renderHtmlReport(records: readonly ResultRecord[], context: HtmlReportContext): string {
  const missing = unreported(records, context.plan);
  const cells = [...new Set([...(context.plan?.cells.map((c) => c.id) ?? []), ...records.map((r) => r.cell)])];
  const scenarios = [...new Set([...records.map((r) => r.outcome.scenario), ...missing.map((m) => m.scenario)])];
  const counts = countStatuses(records, context.plan);
  const compatibility = compatibilityTable(records, context.cells, context.plan);
  const mechanisms = mechanismsTable(records, context.cells);
  const find = (cell: string, scenario: string): ResultRecord | undefined =>
    records.find((r) => r.cell === cell && r.outcome.scenario === scenario);
  const planned = (cell: string, scenario: string): boolean => missing.some((m) => m.cell === cell && m.scenario === scenario);

  const matrix = `<div class="scroll"><table id="matrix">
<thead><tr><th>scenario</th>${cells.map((c) => `<th>${columnHead(c, context.cells?.get(c))}</th>`).join('')}</tr></thead>
<tbody>
${scenarios
  .map(
    (scenario) =>
      `<tr><th scope="row">${esc(scenario)}</th>${cells
        .map((cell) => {
          const record = find(cell, scenario);
          if (!record) return planned(cell, scenario) ? '<td class="not-run">not run</td>' : '<td class="none">—</td>';
          const status = outcomeStatus(record.outcome);
          const time = status === 'passed' || status === 'failed' ? `<small>${seconds(record.outcome.durationMs)}</small>` : '';
          return `<td class="${status}"><a href="#${anchor(cell, scenario)}">${LABEL[status]}</a>${time}</td>`;
        })
        .join('')}</tr>`,
  )
  .join('\n')}
</tbody></table></div>`;

  const details = records.map((r) => renderOutcome(r.cell, r.outcome)).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(context.title)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
@media (max-width:600px){body{margin:.8em}th,td{padding:.3em .4em}}
h1{font-size:1.6em;overflow-wrap:anywhere}h2{font-size:1.15em;overflow-wrap:anywhere}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:.35em .7em;text-align:left;vertical-align:top}
thead th small{display:block;font-weight:normal;color:#555}thead th a{font-weight:normal;font-size:12px}
td.passed{background:#e6f6e6}td.failed{background:#fbe3e3;font-weight:bold}td.skipped{background:#f1f1f1;color:#555}
td.not-run{background:#fff4d6;color:#7a5200}td.none{color:#999}
td small{display:block;color:#666;font-weight:normal}
.counts span{display:inline-block;margin:0 .4em .4em 0;padding:.25em .6em;border-radius:3px;font-weight:bold}
.counts .passed{background:#e6f6e6}.counts .failed{background:#fbe3e3}.counts .skipped{background:#eee}.counts .not-run{background:#fff4d6}
.timeline{margin:.3em 0 1em}.timeline .bar{display:flex;height:18px;border:1px solid #bbb;max-width:60em}
.timeline .bar span{display:block;min-width:2px;border-right:1px solid #fff}
.timeline .passed{background:#5aa55a}.timeline .failed{background:#c33}.timeline .skipped{background:#bbb}.timeline .not-run{background:#e0b050}
.timeline .step{background:#7fb3d5}
.check.fail{color:#a00}pre{background:#f6f6f6;padding:.6em;overflow:auto;max-height:30em;font-size:12px}
section{border-top:1px solid #ddd;margin-top:1.5em}
.badge{font-size:11px;font-weight:bold;padding:1px 5px;border-radius:3px;color:#fff}.badge.pass{background:#2a7d2a}.badge.fail{background:#b00}.badge.note{background:#a66a00}
.badge.skip{background:#777}
</style></head><body>
<h1>${esc(context.title)}</h1>
<ul>${context.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>
<p id="summary" class="counts" title="${describeCounts(counts)}">${(Object.keys(LABEL) as OutcomeStatus[])
    .map((s) => `<span class="${s}">${counts[s]} ${s === 'not-run' ? 'not run' : s}</span>`)
    .join('')}</p>
${compatibility ? renderCompatibilityHtml(compatibility, esc) : ''}
${mechanisms ? renderMechanismsHtml(mechanisms, esc) : ''}
${matrix}
<h2>Where the time went</h2>
${renderTimelines(cells, records)}
${details}
</body></html>
`;
}

const LABEL: Record<OutcomeStatus, string> = { passed: 'pass', failed: 'FAIL', skipped: 'skip', 'not-run': 'not run' };

function columnHead(cell: string, notes: CellNotes | undefined): string {
  const lines = [esc(cell)];
  if (notes?.kernel) lines.push(`<small>kernel ${esc(notes.kernel)}</small>`);
  if (notes?.moduleVerdict) lines.push(`<small>module: ${esc(notes.moduleVerdict)}</small>`);
  if (notes?.consoleLog) lines.push(`<a href="${encodeURI(notes.consoleLog)}">console log</a>`);
  return lines.join('');
}

/** One bar per cell, as long as the cell took next to the longest one. */
function renderTimelines(cells: readonly string[], records: readonly ResultRecord[]): string {
  const outcomesOf = (cell: string): ScenarioOutcome[] => records.filter((r) => r.cell === cell).map((r) => r.outcome);
  const totals = cells.map((cell) => outcomesOf(cell).reduce((sum, o) => sum + o.durationMs, 0));
  const longest = Math.max(1, ...totals);
  return cells.map((cell, i) => renderTimeline(cell, outcomesOf(cell), (100 * totals[i]!) / longest)).join('\n');
}

/** Each scenario's share of the cell's time; a scenario with procedure steps shows them. */
function renderTimeline(cell: string, outcomes: readonly ScenarioOutcome[], widthPercent: number): string {
  const total = outcomes.reduce((sum, o) => sum + o.durationMs, 0);
  if (total <= 0) return '';
  const segments = outcomes
    .filter((o) => o.durationMs > 0)
    .flatMap((o) => {
      const steps = o.steps?.filter((s) => s.durationMs > 0) ?? [];
      const stepMs = steps.reduce((sum, s) => sum + s.durationMs, 0);
      const parts = steps.map((s) => ({ title: `${o.scenario} › ${s.name}: ${seconds(s.durationMs)}`, ms: s.durationMs, cls: 'step' }));
      const rest = o.durationMs - stepMs;
      if (rest > 0) parts.push({ title: `${o.scenario}: ${seconds(o.durationMs)}`, ms: rest, cls: outcomeStatus(o) });
      return parts;
    });
  const longest = [...outcomes].sort((a, b) => b.durationMs - a.durationMs).slice(0, 3);
  return `<div class="timeline" id="timeline-${anchor(cell, '')}"><strong>${esc(cell)}</strong> — ${seconds(total)}; longest: ${longest
    .map((o) => `${esc(o.scenario)} ${seconds(o.durationMs)}`)
    .join(', ')}
<div class="bar" style="width:${widthPercent.toFixed(1)}%">${segments.map((s) => `<span class="${s.cls}" style="flex:${s.ms} 0 0" title="${esc(s.title)}"></span>`).join('')}</div></div>`;
}

function renderOutcome(cell: string, outcome: ScenarioOutcome): string {
  const status = outcomeStatus(outcome);
  return `<section id="${anchor(cell, outcome.scenario)}">
<h2>${badge(status)} ${esc(cell)} · ${esc(outcome.scenario)}</h2>
<p>${esc(outcome.title)} — ${seconds(outcome.durationMs)}</p>
${outcome.error ? `<p class="check fail">${status === 'not-run' ? esc(outcome.error.replace(/^(not run: )?/, 'not run: ')) : `error: ${esc(outcome.error)}`}</p>` : ''}
${outcome.skipped !== undefined ? `<p>skipped: ${esc(outcome.skipped)}</p>` : ''}
${outcome.steps?.length ? renderSteps(outcome.steps) : ''}
<ul>${outcome.checks.map(renderCheck).join('\n')}</ul>
</section>`;
}

function renderSteps(steps: readonly StepResult[]): string {
  return `<div class="scroll"><table class="steps"><thead><tr><th>step</th><th>status</th><th>duration</th><th>summary</th></tr></thead><tbody>
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
</tbody></table></div>`;
}

function renderCheck(check: Check): string {
  const mark = check.informational
    ? `<span class="badge note">${check.passed ? 'NOTE' : 'FINDING'}</span>`
    : badge(check.passed ? 'passed' : 'failed');
  return `<li class="check ${check.passed || check.informational ? 'pass' : 'fail'}">${mark} <strong>${esc(check.name)}</strong> — expected ${esc(
    check.expected,
  )}; observed ${esc(check.observed)}${
    check.evidence ? `<details><summary>evidence</summary><pre>${esc(check.evidence)}</pre></details>` : ''
  }</li>`;
}

/** Text badges, not emoji: a CI runner's browser may have no emoji font. */
function badge(status: OutcomeStatus): string {
  const [cls, text] = ({ passed: ['pass', 'PASS'], failed: ['fail', 'FAIL'], skipped: ['skip', 'SKIP'], 'not-run': ['note', 'NOT RUN'] } as const)[status];
  return `<span class="badge ${cls}">${text}</span>`;
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
