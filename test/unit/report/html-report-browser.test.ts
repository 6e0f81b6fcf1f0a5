import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chromiumAvailable, renderInBrowser } from '../../../harness/report/browser-snapshot.ts';
import { renderHtmlReport } from '../../../harness/report/html-report.ts';
import { record } from './fixtures.ts';

// The HTML report in a real browser: Debian's Chromium, headless.
describe.runIf(chromiumAvailable())('report.html in Chromium', () => {
  it('renders the matrix, links each cell to its evidence, escapes what it shows, and screenshots', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'toa-lab-html-'));
    const html = join(dir, 'report.html');
    writeFileSync(
      html,
      renderHtmlReport([record('debian-12', 'fullnat-toa-v4'), record('debian-12', 'udp', { passed: false }), record('microvm', 'fullnat-toa-v4')], {
        title: 'toa-lab conformance report',
        notes: ['accelerator: tcg'],
      }),
    );
    const screenshot = join(dir, 'report.png');
    const dom = await renderInBrowser(html, screenshot);

    const matrix = /<table id="matrix">([\s\S]*?)<\/table>/.exec(dom)?.[1] ?? '';
    expect(matrix.match(/<th>(debian-12|microvm)<\/th>/g)).toEqual(['<th>debian-12</th>', '<th>microvm</th>']);
    expect(matrix).toMatch(/<td class="pass"><a href="#debian-12--fullnat-toa-v4">pass<\/a>/);
    expect(matrix).toMatch(/<td class="fail"><a href="#debian-12--udp">FAIL<\/a>/);
    expect(matrix).toMatch(/<td class="none">—<\/td>/); // microvm × udp was not run
    expect(dom).toContain('<section id="debian-12--udp">');
    expect(dom).toContain('<summary>evidence</summary>');
    expect(dom).not.toContain('<script>alert(1)</script>');
    expect(dom).toContain('2 passed, 1 failed');
    expect(statSync(screenshot).size).toBeGreaterThan(5_000);
  });
});
