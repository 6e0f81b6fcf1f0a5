import type { OutcomeStatus } from './outcome-status.ts';
import type { Trend, TrendRow } from './trend.ts';

/**
 * `report trend --format html`: one self-contained page (no scripts, no external
 * assets) of the same rows as the Markdown, each with two small inline SVG charts:
 * its status run by run (a coloured square per run) and its duration over time (a
 * line through the runs it ran in, one dot each). Hand-written SVG: a few rectangles
 * and a polyline do not need a charting library, and the page stays one file.
 */
const COLOUR: Record<OutcomeStatus | 'absent', string> = {
  passed: '#3a9d4a',
  failed: '#c8372d',
  skipped: '#999999',
  'not-run': '#d8a31a',
  absent: '#eeeeee',
};
const CELL = 14;
const CHART = { width: 160, height: 28 };

export function renderTrendHtml(trend: Trend): string {
  const failing = trend.rows.filter((r) => r.failingSince).length;
  const rows = trend.rows.map((row) => trendRow(row, trend)).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>toa-lab trend</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 24px; color: #222; }
table { border-collapse: collapse; } th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: middle; }
.failing { background: #fde8e6; } td:last-child { white-space: nowrap; } svg { vertical-align: middle; } .legend span { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 12px; }
</style></head><body>
<h1>toa-lab trend</h1>
<p>${trend.runs.length} runs, oldest first: ${trend.runs.map((r) => `${esc(r.id)} (${esc(r.startedAt.slice(0, 16).replace('T', ' '))})`).join(', ')}</p>
<p><strong>${failing ? `${failing} failing now.` : 'Nothing fails in the newest run.'}</strong></p>
<p class="legend">${(['passed', 'failed', 'skipped', 'not-run', 'absent'] as const).map((s) => `<span style="background:${COLOUR[s]}"></span>${s === 'absent' ? 'not in that run' : s.replace('-', ' ')}`).join('')}</p>
<table>
<tr><th>cell × scenario</th><th>status by run</th><th>last passed</th><th>failing since</th><th>duration by run</th></tr>
${rows}
</table>
</body></html>
`;
}

function trendRow(row: TrendRow, trend: Trend): string {
  const statuses = row.statuses
    .map((s, i) => `<rect x="${i * (CELL + 2)}" y="0" width="${CELL}" height="${CELL}" fill="${COLOUR[s]}"><title>${esc(trend.runs[i]!.id)}: ${s}</title></rect>`)
    .join('');
  const statusSvg = `<svg width="${row.statuses.length * (CELL + 2)}" height="${CELL}" role="img" aria-label="status by run">${statuses}</svg>`;
  return `<tr class="${row.failingSince ? 'failing' : ''}"><td>${esc(row.cell)} × ${esc(row.scenario)}</td><td>${statusSvg}</td><td>${esc(
    row.lastPassed?.id ?? 'never',
  )}</td><td>${esc(row.failingSince?.id ?? '—')}</td><td>${durationSvg(row, trend)}</td></tr>`;
}

/** Durations as a line over the runs (x: run, y: seconds from 0 to the row's maximum). */
function durationSvg(row: TrendRow, trend: Trend): string {
  const points = row.durationsMs.flatMap((ms, i) => (ms === undefined ? [] : [{ i, ms }]));
  if (points.length === 0) return '—';
  const max = Math.max(...points.map((p) => p.ms)) || 1;
  const step = trend.runs.length > 1 ? (CHART.width - 8) / (trend.runs.length - 1) : 0;
  const xy = points.map((p) => ({ x: 4 + p.i * step, y: CHART.height - 4 - ((CHART.height - 8) * p.ms) / max, ...p }));
  const line = xy.length > 1 ? `<polyline fill="none" stroke="#3366aa" stroke-width="1.5" points="${xy.map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ')}"/>` : '';
  const dots = xy.map((p) => `<circle cx="${p.x.toFixed(1)}" cy="${p.y.toFixed(1)}" r="2.5" fill="#3366aa"><title>${esc(trend.runs[p.i]!.id)}: ${(p.ms / 1000).toFixed(1)} s</title></circle>`).join('');
  return `<svg width="${CHART.width}" height="${CHART.height}" role="img" aria-label="duration by run">${line}${dots}</svg> ${(points.at(-1)!.ms / 1000).toFixed(1)} s`;
}

function esc(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}
