import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chromiumAvailable, renderInBrowser, SCREENSHOT_WIDTHS, screenshotFullPage } from '../../../harness/report/browser-snapshot.ts';
import { renderHtmlReport } from '../../../harness/report/html-report.ts';
import { realisticRun } from './fixtures.ts';

/** A PNG's size from its IHDR chunk. */
function pngSize(file: string): { width: number; height: number } {
  const data = readFileSync(file);
  return { width: data.readUInt32BE(16), height: data.readUInt32BE(20) };
}

// The HTML report in a real browser: Debian's Chromium, headless.
describe.runIf(chromiumAvailable())('report.html in Chromium', () => {
  it('counts passed / failed / skipped / not run apart, heads columns with kernel, verdict and console log, escapes what it shows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'toa-lab-html-'));
    const html = join(dir, 'report.html');
    const run = realisticRun();
    writeFileSync(html, renderHtmlReport(run.records, { title: 'toa-lab conformance report', notes: ['accelerator: tcg'], cells: run.cells, plan: run.plan }));
    const dom = await renderInBrowser(html);

    const summary = /<p id="summary"[\s\S]*?<\/p>/.exec(dom)?.[0] ?? '';
    expect(summary).toContain(`<span class="passed">${run.expected.passed} passed</span>`);
    expect(summary).toContain(`<span class="failed">${run.expected.failed} failed</span>`);
    expect(summary).toContain(`<span class="skipped">${run.expected.skipped} skipped</span>`);
    expect(summary).toContain(`<span class="not-run">${run.expected.notRun} not run</span>`);
    const matrix = /<table id="matrix">([\s\S]*?)<\/table>/.exec(dom)?.[1] ?? '';
    expect(matrix).toContain('debian-12<small>kernel 6.1.0-56-amd64</small><small>module: passed</small><a href="console-debian-12.log">console log</a>');
    expect(matrix).toMatch(/<td class="passed"><a href="#microvm-bookworm--fullnat-toa-v4">pass<\/a>/);
    expect(matrix).toMatch(/<td class="failed"><a href="#debian-12--udp">FAIL<\/a>/);
    expect(matrix).toMatch(/<td class="skipped"><a href="#microvm-trixie--toa-kind-filter">skip<\/a><\/td>/);
    expect(matrix).toMatch(/<td class="not-run"><a href="#microvm-bullseye--load">not run<\/a><\/td>/); // the guest went down first
    expect(matrix).toMatch(/<td class="not-run">not run<\/td>/); // planned, never reported (a lost shard)
    expect(dom).toContain('<section id="debian-12--udp">');
    expect(dom).toContain('<summary>evidence</summary>');
    expect(dom).toContain('id="timeline-debian-12--"');
    expect(dom).not.toContain('<script>alert(1)</script>');
  });

  it('screenshots the whole page at a narrow and a wide width', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'toa-lab-shot-'));
    const html = join(dir, 'report.html');
    const run = realisticRun();
    writeFileSync(html, renderHtmlReport(run.records, { title: 'toa-lab conformance report', notes: ['accelerator: tcg'], cells: run.cells, plan: run.plan }));
    for (const [name, width] of Object.entries(SCREENSHOT_WIDTHS)) {
      const png = join(process.env.TOA_LAB_KEEP_SCREENSHOTS ?? dir, `report-${name}.png`);
      await screenshotFullPage(html, png, width);
      const size = pngSize(png);
      expect(size.width).toBe(width); // the matrix scrolls inside the page; the page itself does not get wider
      expect(size.height).toBeGreaterThan(3_000); // the whole page, not the top 900 pixels
    }
  });
});
