// SPDX-License-Identifier: GPL-2.0-only
//
// toa.ko must build with zero warnings against Debian's current kernel headers:
//   - bookworm 6.1  on the host (gcc-12, /usr/src/linux-headers-6.1*-amd64),
//   - bullseye 5.10 and trixie 6.12 in cached chroots of those suites, each with
//     its own gcc (the host's gcc-12 cannot build for 6.12).
//   - the default lab's newer kernels (trixie-backports 7.2 and 7.3, trixie's cloud
//     flavour) and sid's, each in a chroot of its suite with exactly its headers
//     (sid: Check-Valid-Until off, /proc mounted for 7.2's objtool).
// "Warning" means any line with `warning:` (any case: modpost says WARNING:).
// Each build's compiled guard branches (`modinfo -F toa_guards`) are listed at
// the end, with the branches toa.c declares that no build here compiled.
// A suite is skipped, with the reason, only when its packages cannot be fetched
// at all; every other failure fails the test.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveKernel } from '../../harness/kernels/archive-kernels.ts';
import { DEFAULT_KERNELS } from '../../harness/kernels/default-kernels.ts';
import { formatKernelSpec, type KernelSpec } from '../../harness/kernels/kernel-spec.ts';
import {
  ensureKernelChroot,
  ensureSuiteChroot,
  makeInChroot,
  SuiteUnavailableError,
  warningLines,
} from '../../harness/kernels/suite-chroot.ts';
import type { DebianSuite } from '../../harness/kernels/debian-suite.ts';

const SRC = fileURLToPath(new URL('../../native/toa', import.meta.url));
const SUITES: { suite: DebianSuite; kernelPrefix: string }[] = [
  { suite: 'bullseye', kernelPrefix: '5.10.' },
  { suite: 'trixie', kernelPrefix: '6.12.' },
];

interface Timing {
  target: string;
  kernel: string;
  chroot?: string;
  buildMs: number;
  warnings: number;
}
const timings: Timing[] = [];
/** Per build: the guard branches it compiled. */
const guards = new Map<string, string[]>();

/** The branches toa.c declares (every `#define TOA_GUARD_X " name"`). */
function declaredGuards(): string[] {
  const source = readFileSync(join(SRC, 'toa.c'), 'utf8');
  return [...source.matchAll(/#define TOA_GUARD_\w+ "\s*([^"]+)"/g)].map((m) => m[1]!.trim());
}

function recordGuards(target: string, ko: string): void {
  const m = /toa_guards=([^\0]*)/.exec(readFileSync(ko).toString('latin1'));
  guards.set(target, (m?.[1] ?? '').split(' ').filter(Boolean));
}

afterAll(() => {
  if (guards.size) {
    const compiled = new Set([...guards.values()].flat());
    const lines = [...guards].map(([target, g]) => `  ${target.padEnd(28)} ${g.join(' ')}`);
    const never = declaredGuards().filter((g) => !compiled.has(g));
    console.log(`toa.ko guard branches compiled:\n${lines.join('\n')}\n  never compiled here: ${never.join(', ') || 'none'}`);
  }

  if (!timings.length) return;
  const rows = timings.map(
    (t) =>
      `  ${t.target.padEnd(22)} ${t.kernel.padEnd(24)} chroot ${(t.chroot ?? '-').padEnd(18)} build ${(t.buildMs / 1000).toFixed(1).padStart(5)} s  warnings ${t.warnings}`,
  );
  console.log(`toa.ko build timings:\n${rows.join('\n')}`);
});

/** Newest host headers for 6.1 (bookworm), e.g. /usr/src/linux-headers-6.1.0-56-amd64. */
function hostHeaders(): string | undefined {
  if (process.env.TOA_LAB_HOST_KDIR) return process.env.TOA_LAB_HOST_KDIR;
  const names = existsSync('/usr/src')
    ? readdirSync('/usr/src').filter((n) => /^linux-headers-6\.1\.\d+-\d+-amd64$/.test(n))
    : [];
  names.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const last = names.at(-1);
  return last ? join('/usr/src', last) : undefined;
}

function run(cmd: string, args: string[]): Promise<{ exitCode: number | null; output: string; durationMs: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ exitCode: code, output, durationMs: Date.now() - started }));
  });
}

/** The kernel release a .ko was built for, from its vermagic. */
function vermagic(ko: string): string | undefined {
  const m = /vermagic=(\S+)/.exec(readFileSync(ko).toString('latin1'));
  return m?.[1];
}

describe('toa.ko builds with zero warnings', () => {
  it('bookworm 6.1 on the host', async (ctx) => {
    const kdir = hostHeaders();
    if (!kdir || !existsSync(kdir)) {
      console.warn('skipping host build: no /usr/src/linux-headers-6.1*-amd64 (apt-get install linux-headers-amd64 on bookworm)');
      ctx.skip();
      return;
    }
    // Build a copy, so the source tree stays clean and parallel builds can't collide.
    const work = await mkdtemp(join(tmpdir(), 'toa-build-'));
    try {
      await cp(SRC, work, { recursive: true, filter: (p) => !/\.(o|ko|mod|mod\.c|cmd|symvers|order)$/.test(p) });
      const r = await run('make', ['-C', work, `KDIR=${kdir}`]);
      const warnings = warningLines(r.output);
      const release = kdir.replace(/^.*linux-headers-/, '');
      timings.push({ target: 'bookworm', kernel: release, buildMs: r.durationMs, warnings: warnings.length });
      expect(r.exitCode, r.output).toBe(0);
      expect(warnings, r.output).toEqual([]);
      expect(vermagic(join(work, 'toa.ko'))).toBe(release);
      recordGuards(`bookworm ${release}`, join(work, 'toa.ko'));
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  it('guest helpers (toa-backend, toa-tun-probe) build static with -Werror', async () => {
    for (const dir of ['../../native/backend', '../../native/toa/tests']) {
      const src = fileURLToPath(new URL(dir, import.meta.url));
      const work = await mkdtemp(join(tmpdir(), 'toa-helper-'));
      try {
        await cp(src, work, { recursive: true, filter: (p) => !/(toa-backend|toa-tun-probe)$/.test(p) });
        const r = await run('make', ['-C', work]);
        expect(r.exitCode, r.output).toBe(0);
        expect(warningLines(r.output), r.output).toEqual([]);
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    }
  });

  for (const { suite, kernelPrefix } of SUITES) {
    it(`${suite} ${kernelPrefix.slice(0, -1)} in a cached ${suite} chroot`, { timeout: 900_000 }, async (ctx) => {
      if (process.getuid?.() !== 0) {
        console.warn(`skipping ${suite}: building a chroot needs root (mmdebstrap --mode=root, chroot)`);
        ctx.skip();
        return;
      }
      let chroot;
      try {
        chroot = await ensureSuiteChroot(suite);
      } catch (e) {
        if (e instanceof SuiteUnavailableError) {
          console.warn(`skipping ${suite}: ${e.reason}`);
          ctx.skip();
          return;
        }
        throw e;
      }
      const chrootNote = `${chroot.cached ? 'cached' : 'cold'} ${(chroot.durationMs / 1000).toFixed(1)} s`;
      expect(chroot.kernelRelease.startsWith(kernelPrefix), chroot.kernelRelease).toBe(true);

      const out = await mkdtemp(join(tmpdir(), `toa-${suite}-`));
      try {
        const r = await makeInChroot(chroot, SRC, { artifacts: ['toa.ko'], outDir: out });
        timings.push({ target: suite, kernel: chroot.kernelRelease, chroot: chrootNote, buildMs: r.durationMs, warnings: r.warnings.length });
        expect(r.exitCode, r.output).toBe(0);
        expect(r.warnings, r.output).toEqual([]);
        expect(vermagic(join(out, 'toa.ko'))).toBe(chroot.kernelRelease);
        recordGuards(`${suite} ${chroot.kernelRelease}`, join(out, 'toa.ko'));
      } finally {
        await rm(out, { recursive: true, force: true });
      }
    });
  }

  const KERNELS: KernelSpec[] = [...DEFAULT_KERNELS, { suite: 'sid', flavour: 'generic' }];
  for (const spec of KERNELS) {
    it(`${formatKernelSpec(spec)} in a chroot with exactly its headers`, { timeout: 900_000 }, async (ctx) => {
      if (process.getuid?.() !== 0) {
        console.warn(`skipping ${formatKernelSpec(spec)}: building a chroot needs root`);
        ctx.skip();
        return;
      }
      const kernel = await resolveKernel(spec);
      let chroot;
      try {
        chroot = await ensureKernelChroot(kernel, { onProgress: () => {} });
      } catch (e) {
        if (e instanceof SuiteUnavailableError) {
          console.warn(`skipping ${formatKernelSpec(spec)}: ${e.reason}`);
          ctx.skip();
          return;
        }
        throw e;
      }
      expect(chroot.kernelRelease).toBe(kernel.release);
      const out = await mkdtemp(join(tmpdir(), 'toa-kernel-'));
      try {
        const r = await makeInChroot(chroot, SRC, { artifacts: ['toa.ko'], outDir: out });
        const target = formatKernelSpec(spec);
        timings.push({ target, kernel: kernel.release, chroot: chroot.cached ? 'cached' : 'cold', buildMs: r.durationMs, warnings: r.warnings.length });
        expect(r.exitCode, r.output).toBe(0);
        expect(r.warnings, r.output).toEqual([]);
        expect(vermagic(join(out, 'toa.ko'))).toBe(kernel.release);
        recordGuards(`${target} ${kernel.release}`, join(out, 'toa.ko'));
      } finally {
        await rm(out, { recursive: true, force: true });
      }
    });
  }
});
