import type { Mechanism } from '../core/scenario.ts';
import { outcomeStatus, type OutcomeStatus } from './outcome-status.ts';
import type { CellNotes, ResultRecord } from './results-store.ts';

/**
 * The mechanisms table: how each way of carrying the client's address fared on each backend
 * of the run — TOA through a kernel module, TOA through eBPF, the PROXY protocol, direct
 * server return — so a vendor can compare them on one backend (an image and its kernel).
 *
 * Rows come from typed fields only: the scenario's `mechanism` (kept in each result line) and,
 * for TOA, how the cell's guest read it (CellNotes.toa: a module, named by CellNotes.module, or
 * eBPF). Columns are the images, in the results' order. An entry counts that row's scenarios on
 * that image: all passed, how many failed (and which), or none applicable.
 */
export interface MechanismsTable {
  rows: MechanismRow[];
  images: Array<{ image: string; kernel?: string }>;
  entries: Map<string, MechanismEntry>;
}

export interface MechanismRow {
  key: string;
  label: string;
}

export interface MechanismEntry {
  passed: number;
  failed: string[];
  skipped: number;
  notRun: number;
}

const LABEL: Record<Exclude<Mechanism, 'toa'>, string> = {
  dsr: 'DSR (VIP on loopback)',
  'proxy-v1': 'PROXY protocol v1',
  'proxy-v2': 'PROXY protocol v2',
};

/** The order rows appear in, whatever order the results came in. */
const ROW_ORDER = ['toa-module', 'toa-bpf', 'proxy-v1', 'proxy-v2', 'dsr'];

/** The table for a run, or undefined when no result names its mechanism (results from before the field). */
export function mechanismsTable(records: readonly ResultRecord[], cells: ReadonlyMap<string, CellNotes> | undefined): MechanismsTable | undefined {
  const rows = new Map<string, MechanismRow>();
  const images: MechanismsTable['images'] = [];
  const entries = new Map<string, MechanismEntry>();
  for (const record of records) {
    const mechanism = record.outcome.mechanism;
    if (mechanism === undefined) continue;
    const notes = cells?.get(record.cell);
    const row = rowFor(mechanism, notes);
    if (!rows.has(row.key)) rows.set(row.key, row);
    const image = notes?.image ?? record.cell;
    const column = images.find((i) => i.image === image);
    if (!column) images.push({ image, ...(notes?.kernel && { kernel: notes.kernel }) });
    else if (!column.kernel && notes?.kernel) column.kernel = notes.kernel;
    const key = entryKey(row.key, image);
    const entry = entries.get(key) ?? { passed: 0, failed: [], skipped: 0, notRun: 0 };
    count(entry, outcomeStatus(record.outcome), record.outcome.scenario);
    entries.set(key, entry);
  }
  if (rows.size === 0) return undefined;
  const ordered = [...rows.values()].sort((a, b) => rank(a.key) - rank(b.key));
  return { rows: ordered, images, entries };
}

export function entryKey(row: string, image: string): string {
  return `${row} @ ${image}`;
}

/** TOA splits by how the cell's guest read it, and a module row by the module's name (a module matrix has several). */
function rowFor(mechanism: Mechanism, notes: CellNotes | undefined): MechanismRow {
  if (mechanism !== 'toa') return { key: mechanism, label: LABEL[mechanism] };
  if (notes?.toa === 'bpf') return { key: 'toa-bpf', label: 'TOA, eBPF (no module)' };
  const module = notes?.module;
  return module ? { key: `toa-module:${module}`, label: `TOA module (${module})` } : { key: 'toa-module', label: 'TOA module' };
}

function rank(key: string): number {
  const base = key.split(':')[0]!;
  const index = ROW_ORDER.indexOf(base);
  return index < 0 ? ROW_ORDER.length : index;
}

function count(entry: MechanismEntry, status: OutcomeStatus, scenario: string): void {
  if (status === 'passed') entry.passed++;
  else if (status === 'failed') entry.failed.push(scenario);
  else if (status === 'skipped') entry.skipped++;
  else entry.notRun++;
}

/** An entry as words: the verdict first, then what it rests on. */
export function describeEntry(entry: MechanismEntry): { status: 'passed' | 'failed' | 'skipped' | 'not-run'; text: string } {
  const decided = entry.passed + entry.failed.length;
  if (entry.failed.length > 0) return { status: 'failed', text: `${entry.passed}/${decided} passed; failed: ${entry.failed.join(', ')}` };
  if (entry.passed > 0) return { status: 'passed', text: `${entry.passed}/${decided} passed${entry.notRun ? `, ${entry.notRun} not run` : ''}` };
  if (entry.notRun > 0) return { status: 'not-run', text: `${entry.notRun} not run` };
  return { status: 'skipped', text: `not applicable (${entry.skipped} skipped)` };
}

const MARK = { passed: '✅', failed: '❌', skipped: '➖', 'not-run': '⏸️' } as const;

/** report.md and summary.md: the table under a bold caption (summary.md keeps it: it stops at the first "## "). */
export function renderMechanismsMarkdown(table: MechanismsTable): string[] {
  const text = (row: string, image: string): string => {
    const entry = table.entries.get(entryKey(row, image));
    if (!entry) return '—';
    const { status, text } = describeEntry(entry);
    return `${MARK[status]} ${text}`;
  };
  return [
    "**Mechanisms × backend** — each way of carrying the client's address, on each backend of this run (scenarios passed)",
    '',
    `| mechanism | ${table.images.map((i) => (i.kernel ? `${i.image}<br>${i.kernel}` : i.image)).join(' | ')} |`,
    `|---|${table.images.map(() => '---').join('|')}|`,
    ...table.rows.map((r) => `| ${r.label} | ${table.images.map((i) => text(r.key, i.image)).join(' | ')} |`),
    '',
  ];
}

/** report.html: the same table; the entry's colour is its mark. */
export function renderMechanismsHtml(table: MechanismsTable, esc: (text: string) => string): string {
  const cellHtml = (row: string, image: string): string => {
    const entry = table.entries.get(entryKey(row, image));
    if (!entry) return '<td class="none">—</td>';
    const { status, text } = describeEntry(entry);
    return `<td class="${status}">${esc(text)}</td>`;
  };
  return `<h2 id="mechanisms">Mechanisms × backend</h2>
<div class="scroll"><table id="mechanisms-table">
<thead><tr><th>mechanism</th>${table.images.map((i) => `<th>${esc(i.image)}${i.kernel ? `<small>kernel ${esc(i.kernel)}</small>` : ''}</th>`).join('')}</tr></thead>
<tbody>
${table.rows.map((r) => `<tr><th scope="row">${esc(r.label)}</th>${table.images.map((i) => cellHtml(r.key, i.image)).join('')}</tr>`).join('\n')}
</tbody></table></div>`;
}
