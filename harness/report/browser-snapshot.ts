import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runHostCommand } from '../exec/run-host-command.ts';

/**
 * Loads report.html in headless Chromium (Debian's package) and returns the
 * DOM as the browser built it, and optionally a screenshot: the proof that the
 * report renders for a person, kept with the run's artefacts.
 */
export const CHROMIUM = '/usr/bin/chromium';

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM);
}

export async function renderInBrowser(htmlFile: string, screenshot?: string): Promise<string> {
  // A fresh profile, and none of the background traffic this closed network would refuse.
  const profile = await mkdtemp(join(tmpdir(), 'toa-lab-chromium-'));
  const flags = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    `--user-data-dir=${profile}`,
  ];
  try {
    const url = pathToFileURL(htmlFile).href;
    const dom = await runHostCommand(CHROMIUM, [...flags, '--dump-dom', url], { timeoutMs: 60_000 });
    if (screenshot) {
      await runHostCommand(CHROMIUM, [...flags, `--screenshot=${screenshot}`, '--window-size=1280,900', url], {
        timeoutMs: 60_000,
      });
    }
    return dom.stdout;
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}
