import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { cacheRoot, ensureCached, recipeHash } from '../cache/artifact-cache.ts';
import { runHostCommand } from '../exec/run-host-command.ts';
import { repoRoot } from '../repo-root.ts';
import { runStep, StepFailure, type StepResult } from '../core/step.ts';
import { buildPatchedKernel, type KernelBuildOutcome } from './kernel-build.ts';
import { CONFIG_TARGETS, DEBIAN_LINUX_SOURCE, type KernelSource } from './kernel-source.ts';
import { HostMachine } from './tree-access.ts';

/**
 * The patched kernel built on the host, once per machine: guide steps 1–6 run
 * by buildPatchedKernel on the HostMachine, the result (vmlinuz, System.map,
 * config under boot/, modules under lib/modules/) cached by a hash of what it
 * depends on. The tree stays too (under patched-kernel-src/), so that:
 * - a failed build resumes where it stopped (every script is idempotent);
 * - an edit to native/toa/toa.c — not part of the key — rebuilds only
 *   net/toa/toa.ko, in-tree, instead of the whole kernel (refreshToaModule).
 */
export interface PatchedKernel {
  dir: string;
  hash: string;
  /** e.g. 6.1.192-toa */
  release: string;
  /** Staging root: boot/vmlinuz-<release>, lib/modules/<release>/ */
  root: string;
  treeDir: string;
  /** The build's own steps, as they ran when it was built (cold). */
  buildSteps: StepResult[];
  builtAt: string;
  /** True when this call built it. */
  built: boolean;
}

export interface PatchedKernelOptions {
  toaKind?: number;
  extraversion?: string;
  jobs?: number;
  log?: (line: string) => void;
}

export class KernelBuildError extends Error {
  override readonly name = 'KernelBuildError';
  constructor(readonly outcome: KernelBuildOutcome) {
    const failed = outcome.steps.find((s) => s.status === 'failed');
    super(`the patched kernel did not build: ${failed ? `${failed.name}: ${failed.summary}` : 'unknown step'} (tree kept in ${outcome.treeDir})`);
  }
}

/** Files of native/toa-intree plus the parts of the recipe that change the kernel; not toa.c. */
export async function patchedKernelRecipe(options: PatchedKernelOptions = {}): Promise<Record<string, unknown>> {
  const source = DEBIAN_LINUX_SOURCE;
  if (source.kind !== 'debian-linux-source') throw new Error('unreachable');
  const pkg = `linux-source-${source.series}`;
  const installed = await runHostCommand('dpkg-query', ['-W', '-f=${Version}', pkg], { check: false });
  const version = installed.exitCode === 0 && installed.stdout.trim()
    ? installed.stdout.trim()
    : /^Version: (.+)$/m.exec((await runHostCommand('apt-cache', ['show', '--no-all-versions', pkg])).stdout)?.[1];
  const gcc = (await runHostCommand('gcc', ['-dumpfullversion'], { check: false })).stdout.trim();
  return {
    recipeVersion: 1,
    source: { package: pkg, version },
    configTargets: CONFIG_TARGETS,
    intree: await hashFolder(join(repoRoot(), 'native', 'toa-intree')),
    toaKind: options.toaKind ?? 254,
    extraversion: options.extraversion ?? '-toa',
    gcc,
  };
}

export async function ensurePatchedKernel(options: PatchedKernelOptions = {}): Promise<PatchedKernel> {
  const log = options.log ?? (() => {});
  const recipe = await patchedKernelRecipe(options);
  const source: KernelSource = DEBIAN_LINUX_SOURCE;
  const started = Date.now();
  const workDir = join(cacheRoot(), 'patched-kernel-src', recipeHash(recipe));
  const artifact = await ensureCached('patched-kernel', recipe, async (dir) => {
    await mkdir(workDir, { recursive: true });
    const installKernelHome = join(dir, 'installkernel-home');
    await mkdir(join(installKernelHome, 'bin'), { recursive: true });
    await writeFile(join(installKernelHome, 'bin', 'installkernel'), await readFile(join(repoRoot(), 'native/toa-intree/installkernel')), { mode: 0o755 });
    const outcome = await buildPatchedKernel({
      machine: new HostMachine(),
      source,
      workDir,
      toaKind: options.toaKind ?? 254,
      extraversion: options.extraversion ?? '-toa',
      ...(options.jobs !== undefined && { jobs: options.jobs }),
      staging: { root: join(dir, 'root'), installKernelHome },
      log,
    });
    // The staging folder is renamed into place when done: name the final one in the record.
    const finalDir = join(cacheRoot(), 'patched-kernel', recipeHash(recipe));
    await writeFile(join(dir, 'build-steps.json'), JSON.stringify(outcome.steps, null, 2).replaceAll(dir, finalDir));
    if (!outcome.passed || !outcome.release) throw new KernelBuildError(outcome);
    await rm(installKernelHome, { recursive: true, force: true });
    await writeFile(
      join(dir, 'kernel.json'),
      JSON.stringify({ release: outcome.release, treeDir: outcome.treeDir, builtAt: new Date().toISOString(), coldMs: Date.now() - started }, null, 2),
    );
  });
  const meta = JSON.parse(await readFile(join(artifact.dir, 'kernel.json'), 'utf8')) as { release: string; treeDir: string; builtAt: string };
  return {
    dir: artifact.dir,
    hash: artifact.hash,
    release: meta.release,
    root: join(artifact.dir, 'root'),
    treeDir: meta.treeDir,
    buildSteps: JSON.parse(await readFile(join(artifact.dir, 'build-steps.json'), 'utf8')) as StepResult[],
    builtAt: meta.builtAt,
    built: artifact.built,
  };
}

/** The cached kernel for this recipe, or null (nothing is built): for tests that only run when it is there. */
export async function findCachedPatchedKernel(options: PatchedKernelOptions = {}): Promise<string | null> {
  const dir = join(cacheRoot(), 'patched-kernel', recipeHash(await patchedKernelRecipe(options)));
  return existsSync(join(dir, '.complete')) ? dir : null;
}

/**
 * Makes the kernel tree's net/toa/toa.c equal native/toa/toa.c, rebuilding
 * toa.ko in-tree when it was not (`make net/toa/toa.ko`, seconds). Returns the
 * toa.ko to install and the step that says what was done.
 */
export async function refreshToaModule(kernel: PatchedKernel): Promise<{ module: string; step: StepResult }> {
  const module = join(kernel.treeDir, 'net', 'toa', 'toa.ko');
  const step = await runStep('5d. net/toa/toa.c up to date with native/toa/toa.c', async (rec) => {
    const wanted = await readFile(join(repoRoot(), 'native', 'toa', 'toa.c'), 'utf8');
    const inTree = join(kernel.treeDir, 'net', 'toa', 'toa.c');
    if ((await readFile(inTree, 'utf8')) === wanted && existsSync(module)) return 'unchanged since the cached build: toa.ko as built';
    const lock = join(kernel.treeDir, '.toa-lab-lock');
    await mkdir(lock).catch(() => {
      throw new StepFailure(`${lock} exists: another run is rebuilding toa.ko (remove it if none is)`);
    });
    try {
      await writeFile(inTree, wanted);
      const make = rec.record(
        await runHostCommand('nice', ['-n', '19', 'make', '-C', kernel.treeDir, '-j', '2', 'net/toa/toa.ko'], { check: false, timeoutMs: 900_000 }),
      );
      if (make.exitCode !== 0) throw new StepFailure(`make net/toa/toa.ko failed: ${make.stderr.trim().split('\n').slice(-3).join(' | ')}`);
      const warnings = `${make.stdout}\n${make.stderr}`.split('\n').filter((l) => /^net\/toa\/.*: (warning|error):/.test(l));
      if (warnings.length) throw new StepFailure(`net/toa compiled with warnings: ${warnings[0]}`);
      return 'native/toa/toa.c changed since the cached build: net/toa/toa.ko rebuilt in-tree';
    } finally {
      await rm(lock, { recursive: true, force: true });
    }
  });
  return { module, step };
}

async function hashFolder(dir: string): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (folder: string): Promise<void> => {
    for (const entry of (await readdir(folder, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile() && entry.name !== 'README.md') hash.update(relative(dir, path)).update('\0').update(await readFile(path)).update('\0');
    }
  };
  await walk(dir);
  return hash.digest('hex').slice(0, 16);
}
