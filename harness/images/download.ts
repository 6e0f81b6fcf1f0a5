import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ensureCached } from '../cache/artifact-cache.ts';
import { ChecksumMismatchError, sha256File } from './checksum.ts';

/**
 * A cloud image a user's config names by URL, downloaded once into the
 * artefact cache (keyed by URL and checksum) and verified before it is ever
 * booted. The download goes to the cache's private staging folder, so one that
 * fails half-way, or whose checksum is wrong, never becomes a cached artefact.
 * Node's own fetch: one GET, a progress line every 10 %, a body shorter than its
 * Content-Length is an error.
 */
export interface DownloadedImage {
  file: string;
  /** The file's SHA-256 as computed here. */
  sha256: string;
  built: boolean;
}

export class DownloadError extends Error {
  override readonly name = 'DownloadError';
}

export async function ensureDownloadedImage(url: string, sha256: string | null, onProgress: (line: string) => void = () => {}): Promise<DownloadedImage> {
  if (!/^https?:\/\//.test(url)) throw new DownloadError(`${url}: only http:// and https:// URLs are downloaded`);
  const name = decodeURIComponent(new URL(url).pathname.split('/').pop() || 'image');
  let computed = '';
  const artifact = await ensureCached('downloads', { url, sha256 }, async (dir) => {
    const file = join(dir, name);
    await download(url, file, onProgress);
    computed = await sha256File(file);
    if (sha256 && computed !== sha256.toLowerCase()) throw new ChecksumMismatchError(url, sha256, computed);
    if (!sha256) onProgress(`${name}: no sha256 in the config, so not verified (sha256 ${computed})`);
  });
  const file = join(artifact.dir, name);
  return { file, sha256: computed || (sha256 ?? (await sha256File(file))), built: artifact.built };
}

async function download(url: string, file: string, onProgress: (line: string) => void): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new DownloadError(`${url}: ${error instanceof Error ? (error.cause as Error | undefined)?.message ?? error.message : String(error)}`);
  }
  if (!response.ok || !response.body) throw new DownloadError(`${url}: HTTP ${response.status} ${response.statusText}`);
  const total = Number(response.headers.get('content-length') ?? 0);
  let received = 0;
  let nextReport = 0.1;
  const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
  body.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (total && received / total >= nextReport) {
      onProgress(`downloading ${url}: ${Math.floor((received / total) * 100)} % of ${(total / 2 ** 20).toFixed(0)} MiB`);
      nextReport += 0.1;
    }
  });
  try {
    await pipeline(body, createWriteStream(file));
  } catch (error) {
    throw new DownloadError(`${url}: the download broke off after ${received} of ${total || '?'} bytes (${error instanceof Error ? error.message : String(error)})`);
  }
  if (total && received !== total) throw new DownloadError(`${url}: ${received} of ${total} bytes arrived`);
}
