import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { runHostCommand } from '../exec/run-host-command.ts';

/**
 * Loads report.html in headless Chromium (Debian's package) and returns the
 * DOM as the browser built it, and optionally screenshots: the proof that the
 * report renders for a person, kept with the run's artefacts.
 */
export const CHROMIUM = '/usr/bin/chromium';

/** The widths a report is looked at: a phone-sized window and a wide desktop one. */
export const SCREENSHOT_WIDTHS = { narrow: 480, wide: 1600 } as const;

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM);
}

// A fresh profile, and none of the background traffic this closed network would refuse.
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--hide-scrollbars',
];

export async function renderInBrowser(htmlFile: string, screenshot?: string): Promise<string> {
  const profile = await mkdtemp(join(tmpdir(), 'toa-lab-chromium-'));
  try {
    const url = pathToFileURL(htmlFile).href;
    const dom = await runHostCommand(CHROMIUM, [...FLAGS, `--user-data-dir=${profile}`, '--dump-dom', url], { timeoutMs: 60_000 });
    if (screenshot) await screenshotFullPage(htmlFile, screenshot, SCREENSHOT_WIDTHS.wide);
    return dom.stdout;
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}

/**
 * The whole page at one window width, top to bottom. Chromium's --screenshot
 * flag takes only the window (the top of a long matrix), so this drives the
 * browser over the DevTools protocol on a pipe (--remote-debugging-pipe: fds 3
 * and 4, NUL-separated JSON; no port, no WebSocket): load at the width, measure
 * the content, and capture beyond the viewport.
 */
export async function screenshotFullPage(htmlFile: string, png: string, width: number): Promise<void> {
  const profile = await mkdtemp(join(tmpdir(), 'toa-lab-chromium-'));
  const child = spawn(CHROMIUM, [...FLAGS, `--user-data-dir=${profile}`, '--remote-debugging-pipe', 'about:blank'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
  });
  const cdp = new PipeSession(child.stdio[3] as Writable, child.stdio[4] as Readable);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const gone = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const exitedEarly = gone.then((code) => Promise.reject(new Error(`chromium exited (${code}) before the screenshot: ${stderr}`)));
  try {
    await Promise.race([exitedEarly, capture()]);
  } finally {
    clearTimeout(timer);
    exitedEarly.catch(() => {});
    child.kill('SIGKILL');
    await gone; // its profile is written to until it is gone
    await rm(profile, { recursive: true, force: true, maxRetries: 3 });
  }

  async function capture(): Promise<void> {
    const { targetId } = (await cdp.send('Target.createTarget', { url: 'about:blank' })) as { targetId: string };
    const { sessionId } = (await cdp.send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
    const page = (method: string, params: object = {}): Promise<unknown> => cdp.send(method, params, sessionId);
    await page('Page.enable');
    await page('Emulation.setDeviceMetricsOverride', { width, height: 800, deviceScaleFactor: 1, mobile: false });
    const loaded = cdp.once('Page.loadEventFired', sessionId);
    await page('Page.navigate', { url: pathToFileURL(htmlFile).href });
    await loaded;
    const metrics = (await page('Page.getLayoutMetrics')) as { cssContentSize: { width: number; height: number } };
    const height = Math.min(Math.ceil(metrics.cssContentSize.height), 16_000);
    const fullWidth = Math.max(width, Math.ceil(metrics.cssContentSize.width));
    await page('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false });
    const shot = (await page('Page.captureScreenshot', {
      format: 'png',
      captureBeyondViewport: true,
      clip: { x: 0, y: 0, width: fullWidth, height, scale: 1 },
    })) as { data: string };
    await writeFile(png, Buffer.from(shot.data, 'base64'));
  }
}

/** The DevTools protocol over Chromium's debugging pipe: requests by id, events by name. */
class PipeSession {
  private nextId = 1;
  private buffer = '';
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly waiters: Array<{ method: string; sessionId: string | undefined; resolve: () => void }> = [];

  constructor(
    private readonly out: Writable,
    input: Readable,
  ) {
    input.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString();
      let end: number;
      while ((end = this.buffer.indexOf('\0')) >= 0) {
        const message = JSON.parse(this.buffer.slice(0, end)) as {
          id?: number;
          method?: string;
          sessionId?: string;
          result?: unknown;
          error?: { message: string };
        };
        this.buffer = this.buffer.slice(end + 1);
        if (message.id !== undefined) {
          const waiting = this.pending.get(message.id);
          this.pending.delete(message.id);
          if (message.error) waiting?.reject(new Error(`DevTools: ${message.error.message}`));
          else waiting?.resolve(message.result);
        } else if (message.method) {
          const index = this.waiters.findIndex((w) => w.method === message.method && w.sessionId === message.sessionId);
          if (index >= 0) this.waiters.splice(index, 1)[0]!.resolve();
        }
      }
    });
  }

  send(method: string, params: object = {}, sessionId?: string): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.out.write(`${JSON.stringify({ id, method, params, ...(sessionId && { sessionId }) })}\0`);
    });
  }

  once(method: string, sessionId?: string): Promise<void> {
    return new Promise((resolve) => this.waiters.push({ method, sessionId, resolve }));
  }
}
