import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runHostCommand } from '../exec/run-host-command.ts';
import type { GuestKernel } from '../images/microvm/guest-kernel.ts';
import { runStep, StepFailure, type StepResult } from '../core/step.ts';
import { firstErrors, recogniseFailures } from './failure-signatures.ts';

/**
 * Which TOA module a run tests:
 * - ours (native/toa, the default);
 * - a vendor's source: a directory, a tarball or a git URL (`--toa-source`),
 *   built here against the exact headers of each image's kernel;
 * - a vendor's prebuilt toa.ko (`--toa-ko`), copied in and insmod'ed as the
 *   guide's "install the module on multiple servers" step does;
 * - no module at all: eBPF TOA (`--toa-bpf`), toa-lab's own object
 *   (native/toa-bpf) or a user's, attached to the backend's cgroup (micro-VMs,
 *   kernels ≥ 5.10).
 */
export type ToaModuleChoice =
  | { origin: 'toa-lab' }
  | { origin: 'source'; location: string }
  | { origin: 'prebuilt'; path: string }
  /** `object` undefined: toa-lab's own. */
  | { origin: 'bpf'; object?: string };

export interface PreparedModule {
  choice: ToaModuleChoice;
  /** The .ko to bake into the image; undefined means ours, built with the image. */
  koPath: string | undefined;
  /** Steps taken to get it (fetch, build), each with its output. */
  steps: StepResult[];
  /** Set when the module could not be had for this kernel: the cell's verdict is "did not build". */
  buildFailure?: string;
}

export function describeChoice(choice: ToaModuleChoice): string {
  switch (choice.origin) {
    case 'toa-lab':
      return "toa-lab's own module (native/toa)";
    case 'source':
      return `third-party module from ${choice.location}`;
    case 'prebuilt':
      return `prebuilt module ${choice.path}`;
    case 'bpf':
      return choice.object ? `eBPF TOA object ${choice.object} (no module)` : "toa-lab's own eBPF TOA (native/toa-bpf, no module)";
  }
}

export async function prepareModule(choice: ToaModuleChoice, kernel: GuestKernel, workDir: string): Promise<PreparedModule> {
  if (choice.origin === 'toa-lab') return { choice, koPath: undefined, steps: [] };
  if (choice.origin === 'bpf') {
    if (choice.object && !existsSync(choice.object)) throw new Error(`--toa-bpf: no such file ${choice.object}`);
    return { choice, koPath: undefined, steps: [] };
  }
  if (choice.origin === 'prebuilt') {
    if (!existsSync(choice.path)) throw new Error(`--toa-ko: no such file ${choice.path}`);
    return { choice, koPath: choice.path, steps: [] };
  }
  const { step: fetch, moduleDir } = await fetchToaSource(choice.location, workDir);
  if (!moduleDir) return { choice, koPath: undefined, steps: [fetch], buildFailure: fetch.summary };

  let koPath: string | undefined;
  const build = await runStep(`make (kbuild, against ${kernel.kernelRelease} headers)`, async (step) => {
    const buildDir = join(workDir, 'build');
    const result = step.record(await kernel.buildExternalModule(moduleDir, buildDir));
    const output = `${result.stdout}\n${result.stderr}`;
    const ko = join(buildDir, 'toa.ko');
    if (result.exitCode !== 0 || !existsSync(ko)) {
      const recognised = recogniseFailures(output);
      step.evidence(firstErrors(output).join('\n'));
      throw new StepFailure(
        recognised.length
          ? recognised.map((r) => `${r.signature.explanation} — ${r.signature.remedy}`).join('; ')
          : `the module did not build: ${firstErrors(output, 1)[0] ?? `make exited ${result.exitCode}`}`,
      );
    }
    koPath = ko;
    return `toa.ko built (${statSync(ko).size} bytes)`;
  });
  return { choice, koPath, steps: [fetch, build], ...(build.status !== 'passed' && { buildFailure: build.summary }) };
}

/**
 * A vendor's TOA source on the host, as a step: a directory copied, a tarball
 * unpacked or a git URL cloned under `workDir`, and the folder that holds its
 * kbuild Makefile (set only when the step passed).
 */
export async function fetchToaSource(location: string, workDir: string): Promise<{ step: StepResult; moduleDir?: string }> {
  await mkdir(workDir, { recursive: true });
  const fetched = join(workDir, 'source');
  let moduleDir: string | undefined;
  const step = await runStep(`fetch the TOA source (${location})`, async (recorder) => {
    recorder.record(await obtainSource(location, fetched));
    moduleDir = findModuleDir(fetched);
    return `module source in ${moduleDir.slice(fetched.length) || '/'}`;
  });
  return moduleDir ? { step, moduleDir } : { step };
}

/** A git URL (cloned), as opposed to a local directory or tarball. */
export function isRemoteSource(location: string): boolean {
  return /^(https?|git|ssh):\/\/|^git@|\.git$/.test(location);
}

async function obtainSource(location: string, destination: string) {
  if (isRemoteSource(location)) {
    return runHostCommand('git', ['clone', '--depth', '1', location, destination], { timeoutMs: 300_000 });
  }
  if (!existsSync(location)) throw new StepFailure(`no such directory, tarball or git URL: ${location}`);
  await mkdir(destination, { recursive: true });
  if (statSync(location).isDirectory()) return runHostCommand('cp', ['-r', `${location}/.`, destination]);
  if (/\.(tar(\.(gz|xz|bz2|zst))?|tgz)$/.test(location)) return runHostCommand('tar', ['-xf', location, '-C', destination]);
  throw new StepFailure(`${location}: expected a directory, a .tar(.gz|.xz|.bz2) tarball or a git URL`);
}

/** Where the module's kbuild file is: the top, src/ (Huawei's layout), or one level below. */
export function findModuleDir(root: string, depth = 0): string {
  for (const name of ['Kbuild', 'Makefile']) {
    const file = join(root, name);
    if (existsSync(file) && /obj-[my$(]/.test(readFileSync(file, 'utf8'))) return root;
  }
  if (depth < 2) {
    const subdirs = readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith('.'));
    const preferred = subdirs.sort((a, b) => Number(b.name === 'src') - Number(a.name === 'src'));
    for (const dir of preferred) {
      try {
        return findModuleDir(join(root, dir.name), depth + 1);
      } catch {
        /* not here */
      }
    }
  }
  throw new StepFailure(`no kbuild Makefile (with obj-m) under ${root}`);
}
