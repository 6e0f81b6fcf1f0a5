import type { RunPlan } from '../core/plan.ts';
import type { CellNotes, ResultRecord } from './results-store.ts';

/**
 * The module × kernel compatibility table: one verdict per module under test per image
 * (kernel), with the words behind it — the compiler's first error, the Makefile line that
 * builds nothing, the kernel's line about a refused or half-initialised module, its first
 * fault line. The table vendors and users look for: "which kernels does this module work on,
 * and what does the kernel say where it does not?".
 *
 * Built from the cells' notes in results.jsonl (module, moduleVerdict, moduleStatus,
 * moduleWords, kernel: typed fields the cell runners set), so a merged CI run gets the same
 * table as a single one. Rows are modules and columns images, both in the plan's order (then
 * the results' order); a planned pair that never reported says so.
 */
export interface CompatibilityTable {
  modules: string[];
  images: Array<{ image: string; kernel?: string }>;
  entries: Map<string, CompatibilityEntry>;
}

export interface CompatibilityEntry {
  status: 'passed' | 'failed' | 'not-tested' | 'unreported';
  verdict: string;
  words?: string;
  cell: string;
}

/** The table for a run, or undefined when its cells name no module (a run from before module specs). */
export function compatibilityTable(
  records: readonly ResultRecord[],
  cells: ReadonlyMap<string, CellNotes> | undefined,
  plan?: RunPlan,
): CompatibilityTable | undefined {
  // Every cell the run knows of, with its image and module: the plan's first, then the notes'.
  const known = new Map<string, { image: string; module?: string }>();
  for (const c of plan?.cells ?? []) known.set(c.id, { image: c.image, ...(c.module !== undefined && { module: c.module }) });
  for (const [id, notes] of cells ?? []) {
    const before = known.get(id);
    const module = notes.module ?? before?.module;
    known.set(id, { image: notes.image ?? before?.image ?? id, ...(module !== undefined && { module }) });
  }
  const withModule = [...known].filter((entry): entry is [string, { image: string; module: string }] => entry[1].module !== undefined);
  if (withModule.length === 0) return undefined;

  const modules: string[] = [];
  const images: CompatibilityTable['images'] = [];
  const entries = new Map<string, CompatibilityEntry>();
  for (const [cell, { image, module }] of withModule) {
    if (!modules.includes(module)) modules.push(module);
    const notes = cells?.get(cell);
    const column = images.find((i) => i.image === image);
    if (!column) images.push({ image, ...(notes?.kernel && { kernel: notes.kernel }) });
    else if (!column.kernel && notes?.kernel) column.kernel = notes.kernel;
    entries.set(entryKey(module, image), entryFor(cell, notes, records));
  }
  return { modules, images, entries };
}

export function entryKey(module: string, image: string): string {
  return `${module} @ ${image}`;
}

function entryFor(cell: string, notes: CellNotes | undefined, records: readonly ResultRecord[]): CompatibilityEntry {
  if (notes?.moduleVerdict !== undefined) {
    return {
      cell,
      // Results written before moduleStatus existed: moduleVerdict() returned exactly 'passed' for a pass.
      status: notes.moduleStatus ?? (notes.moduleVerdict === 'passed' ? 'passed' : 'failed'),
      verdict: notes.moduleVerdict,
      ...(notes.moduleWords && { words: notes.moduleWords }),
    };
  }
  // No verdict: the cell stopped before its module was tried (the image did not start), or never reported.
  const first = records.find((r) => r.cell === cell && r.outcome.error);
  if (first) return { cell, status: 'not-tested', verdict: 'not tested', words: first.outcome.error! };
  if (records.some((r) => r.cell === cell)) return { cell, status: 'not-tested', verdict: 'no verdict' };
  return { cell, status: 'unreported', verdict: 'not reported' };
}

const MARK: Record<CompatibilityEntry['status'], string> = { passed: '✅', failed: '❌', 'not-tested': '⏸️', unreported: '—' };

/** Words as one short line: a table cell, not a log. */
export function shortWords(words: string, max = 160): string {
  const line = words.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** report.md and summary.md: the table under a bold caption (kept in summary.md, which stops at the first "## "). */
export function renderCompatibilityMarkdown(table: CompatibilityTable): string[] {
  const cellText = (module: string, image: string): string => {
    const entry = table.entries.get(entryKey(module, image));
    if (!entry) return '—';
    const words = entry.words ? `<br>\`${shortWords(entry.words).replace(/`/g, "'").replace(/\|/g, '\\|')}\`` : '';
    return `${MARK[entry.status]} ${entry.verdict.replace(/\|/g, '\\|')}${words}`;
  };
  return [
    "**Module × kernel compatibility** — one verdict per module per kernel, with the compiler's or the kernel's own words",
    '',
    `| module | ${table.images.map((i) => (i.kernel ? `${i.image}<br>${i.kernel}` : i.image)).join(' | ')} |`,
    `|---|${table.images.map(() => '---').join('|')}|`,
    ...table.modules.map((m) => `| ${m} | ${table.images.map((i) => cellText(m, i.image)).join(' | ')} |`),
    '',
  ];
}

/** report.html: the same table; each entry links to its cell's column in the matrix below. */
export function renderCompatibilityHtml(table: CompatibilityTable, esc: (text: string) => string): string {
  const cellHtml = (module: string, image: string): string => {
    const entry = table.entries.get(entryKey(module, image));
    if (!entry) return '<td class="none">—</td>';
    const cls = entry.status === 'not-tested' || entry.status === 'unreported' ? 'not-run' : entry.status;
    const words = entry.words ? `<small><code>${esc(shortWords(entry.words, 240))}</code></small>` : '';
    // No emoji here: the cell's colour is the mark (headless Chromium has no emoji font for report.png).
    return `<td class="${cls}" title="${esc(entry.cell)}">${esc(entry.verdict)}${words}</td>`;
  };
  return `<h2 id="compatibility">Module × kernel compatibility</h2>
<div class="scroll"><table id="compatibility-table">
<thead><tr><th>module</th>${table.images.map((i) => `<th>${esc(i.image)}${i.kernel ? `<small>kernel ${esc(i.kernel)}</small>` : ''}</th>`).join('')}</tr></thead>
<tbody>
${table.modules.map((m) => `<tr><th scope="row">${esc(m)}</th>${table.images.map((i) => cellHtml(m, i.image)).join('')}</tr>`).join('\n')}
</tbody></table></div>`;
}
