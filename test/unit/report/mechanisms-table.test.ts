import { describe, expect, it } from 'vitest';
import { entryKey, mechanismsTable, renderMechanismsHtml, renderMechanismsMarkdown } from '../../../harness/report/mechanisms-table.ts';
import { renderMarkdownReport } from '../../../harness/report/markdown-report.ts';
import { renderHtmlReport } from '../../../harness/report/html-report.ts';
import type { CellNotes, ResultRecord } from '../../../harness/report/results-store.ts';
import type { Mechanism } from '../../../harness/core/scenario.ts';
import { initialCellNotes } from '../../../harness/cli/cell-notes.ts';
import { SCENARIOS } from '../../../scenarios/index.ts';
import { record } from './fixtures.ts';

function withMechanism(r: ResultRecord, mechanism: Mechanism): ResultRecord {
  return { ...r, outcome: { ...r.outcome, mechanism } };
}

const esc = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');

describe('the mechanisms × backend table', () => {
  // One image tested with our module, the same image with eBPF TOA (a merged run), and Debian 12.
  const records = [
    withMechanism(record('microvm-bookworm', 'fullnat-toa-v4'), 'toa'),
    withMechanism(record('microvm-bookworm', 'load', { passed: false }), 'toa'),
    withMechanism(record('microvm-bookworm', 'dsr-vip'), 'dsr'),
    withMechanism(record('microvm-bookworm-bpf', 'fullnat-toa-v4'), 'toa'),
    withMechanism(record('debian-12', 'fullnat-toa-v4'), 'toa'),
    withMechanism(record('debian-12', 'proxy-protocol-v2'), 'proxy-v2'),
    record('debian-12', 'guide-procedure'), // no mechanism: the guide's steps, not a data path
  ];
  const cells = new Map<string, CellNotes>([
    ['microvm-bookworm', { cell: 'microvm-bookworm', image: 'microvm-bookworm', kernel: '6.1.0-57-amd64', toa: 'module', module: 'toa-lab' }],
    ['microvm-bookworm-bpf', { cell: 'microvm-bookworm-bpf', image: 'microvm-bookworm', kernel: '6.1.0-57-amd64', toa: 'bpf' }],
    ['debian-12', { cell: 'debian-12', image: 'debian-12', toa: 'module', module: 'toa-lab' }],
  ]);

  it('groups results by their typed mechanism and the cell\'s way of reading TOA, per image', () => {
    const table = mechanismsTable(records, cells)!;
    expect(table.rows.map((r) => r.label)).toEqual(['TOA module (toa-lab)', 'TOA, eBPF (no module)', 'PROXY protocol v2', 'DSR (VIP on loopback)']);
    expect(table.images).toEqual([{ image: 'microvm-bookworm', kernel: '6.1.0-57-amd64' }, { image: 'debian-12' }]);
    expect(table.entries.get(entryKey('toa-module:toa-lab', 'microvm-bookworm'))).toEqual({ passed: 1, failed: ['load'], skipped: 0, notRun: 0 });
    expect(table.entries.get(entryKey('toa-bpf', 'microvm-bookworm'))).toEqual({ passed: 1, failed: [], skipped: 0, notRun: 0 });
    expect(table.entries.get(entryKey('proxy-v2', 'microvm-bookworm'))).toBeUndefined();
  });

  it('renders a failure with the scenarios behind it, and a pair never tested as a dash', () => {
    const table = mechanismsTable(records, cells)!;
    const markdown = renderMechanismsMarkdown(table).join('\n');
    expect(markdown).toContain('| TOA module (toa-lab) | ❌ 1/2 passed; failed: load | ✅ 1/1 passed |');
    expect(markdown).toContain('| PROXY protocol v2 | — | ✅ 1/1 passed |');
    const html = renderMechanismsHtml(table, esc);
    expect(html).toContain('<td class="failed">1/2 passed; failed: load</td>');
    expect(html).toContain('<td class="none">—</td>');
  });

  it('is in report.md and report.html, and absent for results written before the field', () => {
    const context = { title: 't', notes: [], cells };
    expect(renderMarkdownReport(records, context)).toContain('**Mechanisms × backend**');
    expect(renderHtmlReport(records, context)).toContain('id="mechanisms-table"');
    const old = [record('microvm-bookworm', 'fullnat-toa-v4')];
    expect(mechanismsTable(old, cells)).toBeUndefined();
    expect(renderMarkdownReport(old, context)).not.toContain('Mechanisms × backend');
  });

  it('a cell knows how its guest reads TOA: a named module, or eBPF', () => {
    const image = { name: 'microvm-bookworm', kind: 'micro' } as Parameters<typeof initialCellNotes>[0];
    expect(initialCellNotes(image, 'qemu', 'microvm-bookworm', 'ucloud')).toMatchObject({ toa: 'module', module: 'ucloud' });
    expect(initialCellNotes(image, 'qemu')).toMatchObject({ toa: 'bpf' });
    expect(initialCellNotes(image, 'qemu')).not.toHaveProperty('module');
  });

  it('every data-path scenario declares its mechanism; DSR is the VIP scenario', () => {
    expect(SCENARIOS.filter((s) => s.mechanism === 'dsr').map((s) => s.id)).toEqual(['dsr-vip']);
    for (const s of SCENARIOS) expect(['toa', 'dsr', 'proxy-v1', 'proxy-v2']).toContain(s.mechanism);
  });
});
