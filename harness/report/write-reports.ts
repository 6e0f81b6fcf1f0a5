import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromiumAvailable, SCREENSHOT_WIDTHS, screenshotFullPage } from './browser-snapshot.ts';
import { renderHtmlReport } from './html-report.ts';
import { writeJUnitReports } from './junit-report.ts';
import { renderMarkdownReport, renderMarkdownSummary } from './markdown-report.ts';
import type { CellNotes, ResultRecord, RunPlan } from './results-store.ts';

export interface ReportContext {
  title: string;
  notes: string[];
  /** What the run learnt about each cell (kernel, accelerator, module verdict, console log). */
  cells?: ReadonlyMap<string, CellNotes>;
  /** What the run meant to execute: planned scenarios without a result count as not run. */
  plan?: RunPlan;
}

/** Every report a finished (or merged) run gets: report.md, report.html (+ full-page report.png and report-narrow.png), junit/<cell>.xml. */
export async function writeReports(outDir: string, records: readonly ResultRecord[], context: ReportContext): Promise<string[]> {
  const markdown = join(outDir, 'report.md');
  const html = join(outDir, 'report.html');
  const summary = join(outDir, 'summary.md');
  writeFileSync(markdown, renderMarkdownReport(records, context));
  writeFileSync(summary, renderMarkdownSummary(records, context));
  writeFileSync(html, renderHtmlReport(records, context));
  const files = [markdown, summary, html, ...writeJUnitReports(records, outDir, context.cells, context.plan)];
  if (chromiumAvailable()) {
    // The whole page, as a desktop and as a phone shows it.
    for (const [png, width] of [
      [join(outDir, 'report.png'), SCREENSHOT_WIDTHS.wide],
      [join(outDir, 'report-narrow.png'), SCREENSHOT_WIDTHS.narrow],
    ] as const) {
      await screenshotFullPage(html, png, width);
      files.push(png);
    }
  }
  return files;
}
