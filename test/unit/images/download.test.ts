import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChecksumMismatchError } from '../../../harness/images/checksum.ts';
import { DownloadError, ensureDownloadedImage } from '../../../harness/images/download.ts';

/**
 * A cloud image by URL, against a real HTTP server on 127.0.0.1: downloaded once
 * and verified; a wrong checksum or a download cut off half-way is an error and
 * leaves nothing in the cache.
 */
const dir = mkdtempSync(join(tmpdir(), 'toa-lab-download-'));
const image = join(dir, 'vendor.qcow2');
execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', image, '64M']);
const bytes = readFileSync(image);
const sha256 = createHash('sha256').update(bytes).digest('hex');
let server: Server;
let base: string;
let requests = 0;

beforeAll(async () => {
  process.env.TOA_LAB_CACHE = join(dir, 'cache');
  server = createServer((req, res) => {
    requests++;
    if (req.url === '/vendor.qcow2') return res.end(bytes);
    if (req.url === '/cut.qcow2') {
      // Promises the whole file, sends half, hangs up.
      res.writeHead(200, { 'content-length': String(bytes.length) });
      res.write(bytes.subarray(0, bytes.length >> 1), () => res.destroy());
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => {
  server.close();
  delete process.env.TOA_LAB_CACHE;
});

const cached = () => (existsSync(join(dir, 'cache', 'downloads')) ? readdirSync(join(dir, 'cache', 'downloads')).filter((n) => !n.startsWith('.')) : []);

describe('cloud images by URL', () => {
  it('downloads once, verifies, and reuses the cached file', async () => {
    const lines: string[] = [];
    const first = await ensureDownloadedImage(`${base}/vendor.qcow2`, sha256, (l) => lines.push(l));
    expect(first).toMatchObject({ sha256, built: true });
    expect(readFileSync(first.file).equals(bytes)).toBe(true);
    expect(lines.some((l) => /downloading .* 100 %/.test(l))).toBe(true);
    const before = requests;
    expect((await ensureDownloadedImage(`${base}/vendor.qcow2`, sha256)).built).toBe(false);
    expect(requests).toBe(before);
  });

  it('refuses a checksum mismatch and caches nothing', async () => {
    const count = cached().length;
    await expect(ensureDownloadedImage(`${base}/vendor.qcow2`, 'f'.repeat(64))).rejects.toThrow(ChecksumMismatchError);
    expect(cached().length).toBe(count);
  });

  it('refuses a download that breaks off half-way, a 404 and a non-HTTP URL, caching nothing', async () => {
    const count = cached().length;
    await expect(ensureDownloadedImage(`${base}/cut.qcow2`, sha256)).rejects.toThrow(DownloadError);
    await expect(ensureDownloadedImage(`${base}/missing.qcow2`, sha256)).rejects.toThrow(/HTTP 404/);
    await expect(ensureDownloadedImage('ftp://example.invalid/x.qcow2', sha256)).rejects.toThrow(/only http/);
    expect(cached().length).toBe(count);
  });
});
