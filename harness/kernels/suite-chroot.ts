// SPDX-License-Identifier: GPL-2.0-only
//
// Cached Debian build chroots, one per suite, for compiling toa.ko against that
// suite's kernel headers with that suite's own compiler (the host's gcc-12
// cannot build for 6.12, see LAB-NOTES).
//
// - A chroot is made by `mmdebstrap --mode=root --variant=minbase` from Debian's
//   archive; it needs root (mknod, chroot) and the package archive.
// - Cache key: `<suite>-<hash of the recipe>` under
//   `${TOA_LAB_CACHE:-$HOME/.cache/toa-lab}/chroots/`. Change the recipe (packages,
//   mirror, variant) and you get a new directory; old ones are left for the user.
// - Atomic: built into `.tmp-<key>-<pid>-<rand>` beside it, renamed when complete.
//   A half-built directory is never mistaken for a cache hit; temp dirs of dead
//   processes are reaped on the next call. Two racing builders: the loser's
//   rename fails, it discards its copy and uses the winner's.
// - "Cannot fetch at all" (archive unreachable, suite missing) is reported as a
//   SuiteUnavailableError so a test can skip with the reason; any other failure
//   is a plain Error carrying the tool's output.
// - A chroot for one archive kernel (ensureKernelChroot: sid, a backports pocket,
//   a cloud flavour) is the pocket's base release plus the pocket, with exactly
//   that kernel's headers; rolling suites (sid, forky, experimental) are fetched
//   with Acquire::Check-Valid-Until=false, their Release files being expired here.
// - Builds run with /proc mounted in the chroot (a private mount namespace, gone
//   with the build): objtool in the 7.2 headers reads /proc/self (LAB-NOTES).
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

import type { ArchiveKernel } from '../kernels/archive-kernels.ts';
import { PACKAGE_FORMATS, type KernelPackageFormat } from './package-formats.ts';
import { sourceLines, suiteAptOptions, suiteInfo, type DebianSuite } from '../kernels/debian-suite.ts';

export interface SuiteRecipe {
  suite: DebianSuite;
  mirror: string;
  variant: 'minbase';
  arch: 'amd64';
  packages: readonly string[];
  /** Further `deb` lines (a pocket over its base release); absent for a plain suite. */
  pockets?: readonly string[];
  /** apt options for mmdebstrap (`--aptopt`), e.g. Acquire::Check-Valid-Until=false; absent when none. */
  aptOptions?: readonly string[];
  /** The kernel release whose headers the build uses; absent: the suite's newest. */
  kernelRelease?: string;
  /**
   * A user's own packages (.deb or .rpm) unpacked into the chroot after `packages` (their headers).
   * Unpacked, not installed: a kernel's headers depend on its image and on pockets the
   * suite may not have, none of which a module build needs (kernel-packages.ts checks
   * the header parts are all given). Keyed by content: the path is not part of the cache key.
   */
  localPackages?: ReadonlyArray<{ sha256: string; path: string; format: KernelPackageFormat }>;
  /** Where those headers sit inside the chroot, when they are not /usr/src/linux-headers-<release> (kernel-devel's /usr/src/kernels/<release>). */
  headersDir?: string;
  /** bump to invalidate every cached chroot built by an older recipe */
  recipeVersion: 1;
}

export interface SuiteChroot {
  suite: DebianSuite;
  dir: string;
  /** e.g. /usr/src/linux-headers-6.12.48+deb13-amd64 (path inside the chroot) */
  headersDir: string;
  /** e.g. 6.12.48+deb13-amd64 */
  kernelRelease: string;
  /** true when found in the cache, false when built by this call */
  cached: boolean;
  /** wall time of this call (build time when cached === false) */
  durationMs: number;
}

export interface EnsureOptions {
  cacheRoot?: string;
  mirror?: string;
  /** progress lines (mmdebstrap's I:/W: lines and our own); default: stderr */
  onProgress?: (line: string) => void;
}

export class SuiteUnavailableError extends Error {
  constructor(
    readonly suite: string,
    readonly reason: string,
  ) {
    super(`Debian suite ${suite} unavailable: ${reason}`);
    this.name = 'SuiteUnavailableError';
  }
}

export const DEFAULT_MIRROR = 'http://deb.debian.org/debian';

/** The packages a module build needs; linux-headers-amd64 pulls the suite's gcc-N. */
export const MODULE_BUILD_PACKAGES = ['gcc', 'make', 'libc6-dev', 'linux-headers-amd64'] as const;

export function cacheRoot(): string {
  return process.env.TOA_LAB_CACHE ?? join(homedir(), '.cache', 'toa-lab');
}

export function suiteRecipe(suite: DebianSuite, mirror = DEFAULT_MIRROR): SuiteRecipe {
  return { suite, mirror, variant: 'minbase', arch: 'amd64', packages: MODULE_BUILD_PACKAGES, recipeVersion: 1 };
}

export function recipeKey(recipe: SuiteRecipe): string {
  const localPackages = recipe.localPackages?.map((d) => d.sha256).sort();
  const canonical = JSON.stringify({ ...recipe, packages: [...recipe.packages].sort(), ...(localPackages && { localPackages }) });
  return `${recipe.suite}-${createHash('sha256').update(canonical).digest('hex').slice(0, 12)}`;
}

/**
 * The recipe of a chroot that builds modules for one archive kernel: its suite's
 * base release (its gcc), plus the pocket the kernel comes from, plus exactly
 * that kernel's headers (which pull the gcc-N they were built with).
 */
export function kernelChrootRecipe(kernel: Pick<ArchiveKernel, 'suite' | 'headers' | 'release'>, mirror = DEFAULT_MIRROR): SuiteRecipe {
  const base = suiteInfo(kernel.suite).base;
  const pockets = sourceLines(kernel.suite).slice(1);
  const aptOptions = mmdebstrapAptOptions(kernel.suite);
  return {
    suite: base,
    mirror,
    variant: 'minbase',
    arch: 'amd64',
    packages: ['gcc', 'make', 'libc6-dev', kernel.headers.name],
    ...(pockets.length && { pockets }),
    ...(aptOptions.length && { aptOptions }),
    kernelRelease: kernel.release,
    recipeVersion: 1,
  };
}

/**
 * The recipe of a chroot that builds modules for a user's kernel packages: the
 * suite whose compiler matches the headers (harness/kernels/build-suite.ts),
 * the gcc-N to build with, and the user's header .debs unpacked.
 */
export function userKernelChrootRecipe(
  suite: DebianSuite,
  options: {
    release: string;
    headers: ReadonlyArray<{ sha256: string; path: string }>;
    format: KernelPackageFormat;
    headersDir: string;
    gccPackage: string;
    buildDepends: readonly string[];
  },
  mirror = DEFAULT_MIRROR,
): SuiteRecipe {
  const aptOptions = mmdebstrapAptOptions(suite);
  return {
    suite,
    mirror,
    variant: 'minbase',
    arch: 'amd64',
    // The headers' own tool Depends (pahole, libelf1, gcc-N… kernel-packages.ts headerBuildDepends).
    packages: [...new Set(['gcc', 'make', 'libc6-dev', options.gccPackage, ...options.buildDepends])],
    ...(aptOptions.length && { aptOptions }),
    kernelRelease: options.release,
    localPackages: options.headers.map((h) => ({ sha256: h.sha256, path: h.path, format: options.format })),
    headersDir: options.headersDir,
    recipeVersion: 1,
  };
}

export async function ensureUserKernelChroot(recipe: SuiteRecipe, opts: EnsureOptions = {}): Promise<SuiteChroot> {
  return ensureChroot(recipe, opts);
}

/** A suite's apt options for mmdebstrap: apt-get's `-o Key=value` becomes apt.conf's `Key "value"` (--aptopt). */
function mmdebstrapAptOptions(suite: DebianSuite): string[] {
  return suiteAptOptions(suite)
    .filter((o) => o !== '-o')
    .map((o) => o.replace(/^([^=]+)=(.*)$/, '$1 "$2"'));
}

export async function ensureSuiteChroot(suite: DebianSuite, opts: EnsureOptions = {}): Promise<SuiteChroot> {
  return ensureChroot(suiteRecipe(suite, opts.mirror), opts);
}

export async function ensureKernelChroot(kernel: Pick<ArchiveKernel, 'suite' | 'headers' | 'release'>, opts: EnsureOptions = {}): Promise<SuiteChroot> {
  return ensureChroot(kernelChrootRecipe(kernel, opts.mirror), opts);
}

async function ensureChroot(recipe: SuiteRecipe, opts: EnsureOptions): Promise<SuiteChroot> {
  const suite = recipe.suite;
  const started = Date.now();
  const progress = opts.onProgress ?? ((l: string) => process.stderr.write(`[chroot ${suite}] ${l}\n`));
  const root = join(opts.cacheRoot ?? cacheRoot(), 'chroots');
  const key = recipeKey(recipe);
  const finalDir = join(root, key);
  await mkdir(root, { recursive: true });
  await reapDeadTemps(root, progress);

  if (await isComplete(finalDir)) {
    const h = await findHeaders(finalDir, recipe.kernelRelease, recipe.headersDir);
    return { suite, dir: finalDir, ...h, cached: true, durationMs: Date.now() - started };
  }

  if (process.getuid?.() !== 0) throw new Error(`building a ${suite} chroot needs root (mmdebstrap --mode=root, chroot)`);
  if (!(await which('mmdebstrap'))) throw new Error('mmdebstrap not found: apt-get install mmdebstrap');
  await preflight(recipe);

  const tmpDir = join(root, `.tmp-${key}-${process.pid}-${randomBytes(4).toString('hex')}`);
  progress(`building ${key} (cold: ~25-40 s here for bullseye/trixie) into ${tmpDir}`);
  try {
    const args = [
      '--mode=root',
      `--variant=${recipe.variant}`,
      `--architectures=${recipe.arch}`,
      `--include=${recipe.packages.join(',')}`,
      // mmdebstrap runs a customize hook on the host with the chroot's path as $1 (package-formats.ts unpacks).
      ...(recipe.localPackages ?? []).map((d) => `--customize-hook=PKG=${shellWord(d.path)} DEST="$1"; ${PACKAGE_FORMATS[d.format].unpackScript}`),
      // Docs, man pages and locales are dead weight in a build chroot.
      ...['doc', 'man', 'locale', 'info'].map((d) => `--dpkgopt=path-exclude=/usr/share/${d}/*`),
      ...(recipe.aptOptions ?? []).map((o) => `--aptopt=${o}`),
      recipe.suite,
      tmpDir,
      recipe.mirror,
      ...(recipe.pockets ?? []),
    ];
    const r = await run('mmdebstrap', args, progress);
    if (r.exitCode !== 0) {
      const tail = r.output.split('\n').slice(-30).join('\n');
      if (/is expired|Failed to fetch|Unable to locate package|does not have a Release file|Could not resolve/i.test(r.output)) {
        throw new SuiteUnavailableError(suite, `mmdebstrap could not fetch packages:\n${tail}`);
      }
      throw new Error(`mmdebstrap ${suite} failed (exit ${r.exitCode}):\n${tail}`);
    }
    const h = await findHeaders(tmpDir, recipe.kernelRelease, recipe.headersDir);
    await writeFile(join(tmpDir, '.toa-lab-recipe.json'), JSON.stringify({ ...recipe, key, ...h, builtAt: new Date().toISOString() }, null, 2));
    try {
      await rename(tmpDir, finalDir);
    } catch (e) {
      // Someone else finished first: theirs is complete, use it.
      if (!(await isComplete(finalDir))) throw e;
      progress(`another builder finished ${key} first; discarding ours`);
      await rm(tmpDir, { recursive: true, force: true });
    }
    const durationMs = Date.now() - started;
    progress(`built ${key} in ${(durationMs / 1000).toFixed(1)} s (kernel headers ${h.kernelRelease})`);
    return { suite, dir: finalDir, ...h, cached: false, durationMs };
  } catch (e) {
    await rm(tmpDir, { recursive: true, force: true }).catch(() => undefined);
    throw e;
  }
}

export interface ChrootBuildResult {
  command: string;
  exitCode: number | null;
  output: string;
  durationMs: number;
  /** lines of the build output containing `warning:` */
  warnings: string[];
  /** files the build produced that were asked for, copied out of the chroot */
  artifacts: Record<string, string>;
}

/**
 * Copy `srcDir` into the chroot (a fresh /tmp/toa-src-* directory; copying avoids
 * leftover bind mounts), run `make -C <it> KDIR=<headers> <targets>`, copy back the
 * named artifacts to `outDir`, and remove the copy.
 */
export async function makeInChroot(
  chroot: SuiteChroot,
  srcDir: string,
  opts: { targets?: string[]; artifacts?: string[]; outDir?: string; onProgress?: (l: string) => void; /** e.g. CC=gcc-13 */ makeVariables?: string[] } = {},
): Promise<ChrootBuildResult> {
  const inner = `/tmp/toa-src-${process.pid}-${randomBytes(4).toString('hex')}`;
  const hostCopy = join(chroot.dir, inner);
  await mkdir(hostCopy, { recursive: true });
  try {
    await cp(srcDir, hostCopy, {
      recursive: true,
      filter: (p) => !/\.(o|ko|mod|mod\.c|cmd|symvers|order)$/.test(p) && !p.includes('/.tmp_versions'),
    });
    const [command, args] = chrootCommand(chroot.dir, ['make', '-C', inner, `KDIR=${chroot.headersDir}`, ...(opts.makeVariables ?? []), ...(opts.targets ?? [])]);
    const started = Date.now();
    const r = await run(command, args, opts.onProgress ?? (() => undefined), { LC_ALL: 'C', PATH: '/usr/sbin:/usr/bin:/sbin:/bin' });
    const artifacts: Record<string, string> = {};
    if (opts.outDir && r.exitCode === 0) {
      await mkdir(opts.outDir, { recursive: true });
      for (const a of opts.artifacts ?? []) {
        const dest = join(opts.outDir, a);
        await cp(join(hostCopy, a), dest);
        artifacts[a] = dest;
      }
    }
    return {
      command: `${command} ${args.join(' ')}`,
      exitCode: r.exitCode,
      output: r.output,
      durationMs: Date.now() - started,
      warnings: warningLines(r.output),
      artifacts,
    };
  } finally {
    await rm(hostCopy, { recursive: true, force: true });
  }
}

/**
 * `chroot DIR ARGV` with /proc mounted inside, in a private mount and PID
 * namespace, so the mount ends with the command and two builds never share it.
 */
export function chrootCommand(dir: string, argv: readonly string[]): [string, string[]] {
  return ['unshare', ['--fork', '--pid', `--mount-proc=${join(dir, 'proc')}`, 'chroot', dir, ...argv]];
}

/** A path as one word for mmdebstrap's hook shell. */
function shellWord(path: string): string {
  return `'${path.replace(/'/g, `'\\''`)}'`;
}

export function warningLines(output: string): string[] {
  return output.split('\n').filter((l) => /warning:/i.test(l));
}

// ---------------------------------------------------------------------------

async function isComplete(dir: string): Promise<boolean> {
  return existsSync(join(dir, '.toa-lab-recipe.json'));
}

async function findHeaders(dir: string, release?: string, headersDir?: string): Promise<{ headersDir: string; kernelRelease: string }> {
  if (headersDir && release) {
    if (!existsSync(join(dir, headersDir, '.config'))) throw new Error(`no kernel headers at ${headersDir} in the build chroot`);
    return { headersDir, kernelRelease: release };
  }
  const src = join(dir, 'usr/src');
  const all = await readdir(src).catch(() => [] as string[]);
  // A named release is found whatever its suffix (a vendor's -generic); otherwise the newest Debian amd64 headers.
  const name = release ? all.find((n) => n === `linux-headers-${release}`) : all.filter((n) => /^linux-headers-.*-amd64$/.test(n)).sort().at(-1);
  if (!name) throw new Error(`no linux-headers-${release ?? '*-amd64'} under ${src}`);
  return { headersDir: `/usr/src/${name}`, kernelRelease: name.replace(/^linux-headers-/, '') };
}

/** Remove `.tmp-*-<pid>-*` directories whose builder process is gone. */
async function reapDeadTemps(root: string, progress: (l: string) => void): Promise<void> {
  for (const n of await readdir(root).catch(() => [] as string[])) {
    const m = /^\.tmp-.+-(\d+)-[0-9a-f]{8}$/.exec(n);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || isAlive(pid)) continue;
    progress(`reaping leftover ${n} (builder pid ${pid} is gone)`);
    await rm(join(root, n), { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function preflight(recipe: SuiteRecipe): Promise<void> {
  const url = `${recipe.mirror}/dists/${recipe.suite}/InRelease`;
  let res: Response;
  try {
    res = await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(20_000) });
  } catch (e) {
    throw new SuiteUnavailableError(recipe.suite, `cannot reach ${url}: ${(e as Error).message}`);
  }
  if (!res.ok) throw new SuiteUnavailableError(recipe.suite, `${url} answered HTTP ${res.status}`);
}

async function which(cmd: string): Promise<boolean> {
  for (const d of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    if (await stat(join(d, cmd)).then(() => true, () => false)) return true;
  }
  return false;
}

interface RunResult {
  exitCode: number | null;
  output: string;
}

function run(cmd: string, args: string[], onLine: (l: string) => void, env?: Record<string, string>): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let output = '';
    let partial = '';
    const onData = (b: Buffer) => {
      const s = b.toString();
      output += s;
      const lines = (partial + s).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) if (l.trim()) onLine(l);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) => {
      if (partial.trim()) onLine(partial);
      resolve({ exitCode: code, output });
    });
  });
}

/** Read the recipe record a completed chroot carries (for reports). */
export async function readChrootRecord(dir: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(join(dir, '.toa-lab-recipe.json'), 'utf8')) as Record<string, unknown>;
}
