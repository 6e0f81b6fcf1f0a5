import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromiumAvailable, renderInBrowser } from './browser-snapshot.ts';
import { renderHtmlReport } from './html-report.ts';
import { writeJUnitReports } from './junit-report.ts';
import { renderMarkdownReport } from './markdown-report.ts';
import type { CellNotes, ResultRecord, RunPlan } from './results-store.ts';

export interface ReportContext {
  title: string;
  notes: string[];
  /** What the run learnt about each cell (kernel, accelerator, module verdict, console log). */
  cells?: ReadonlyMap<string, CellNotes>;
  /** What the run meant to execute: planned scenarios without a result count as not run. */
  plan?: RunPlan;
}

/** Every report a finished (or merged) run gets: report.md, report.html (+ report.png), junit/<cell>.xml. */
export async function writeReports(outDir: string, records: readonly ResultRecord[], context: ReportContext): Promise<string[]> {
  const markdown = join(outDir, 'report.md');
  const html = join(outDir, 'report.html');
  writeFileSync(markdown, renderMarkdownReport(records, context));
  writeFileSync(html, renderHtmlReport(records, context));
  const files = [markdown, html, ...writeJUnitReports(records, outDir, context.cells)];
  if (chromiumAvailable()) {
    const screenshot = join(outDir, 'report.png');
    await renderInBrowser(html, screenshot);
    files.push(screenshot);
  }
  return files;
}
