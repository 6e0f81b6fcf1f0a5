import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { runHostCommand } from '../exec/run-host-command.ts';
import type { ExternalBuild, GuestKernel } from '../images/microvm/guest-kernel.ts';
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
  /** Set when the module could not be had for this kernel, with the compiler's or make's words. */
  buildFailure?: string;
  /** The cell's verdict when buildFailure is set: make failed, or exited 0 and left no .ko. */
  buildVerdict?: 'did not build' | 'produced no module';
  /** With buildFailure: the compiler's (or make's) first error line, or the Makefile line that builds nothing. */
  said?: string;
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
  if (!moduleDir) return { choice, koPath: undefined, steps: [fetch], buildFailure: fetch.summary, buildVerdict: 'did not build', said: fetch.summary };

  // The guide's way first: the module's own Makefile, in a build environment that is the target's.
  const own = await buildStep(kernel, moduleDir, join(workDir, 'build'), 'own-makefile');
  if (own.koPath) return { choice, koPath: own.koPath, steps: [fetch, own.step] };
  // Its Makefile built nothing here: kbuild called directly, said as the fallback it is.
  const direct = await buildStep(kernel, moduleDir, join(workDir, 'build-kbuild'), 'kbuild');
  if (direct.koPath) {
    // Not a failure of the module: the report says which way built it, and why not the guide's.
    const ownWay: StepResult = { ...own.step, status: 'skipped', summary: `its own Makefile built nothing here (${own.step.summary}); kbuild called directly instead` };
    return { choice, koPath: direct.koPath, steps: [fetch, ownWay, direct.step] };
  }
  // Neither built: the verdict comes from the guide's way.
  const steps = [fetch, own.step, direct.step];
  if (own.exitCode === 0) {
    return { choice, koPath: undefined, steps, buildFailure: producedNoModule(moduleDir), buildVerdict: 'produced no module', said: gatedObjectLine(moduleDir) ?? 'make exited 0 and left no .ko' };
  }
  return { choice, koPath: undefined, steps, buildFailure: own.step.summary, buildVerdict: 'did not build', ...(own.said && { said: own.said }) };
}

const BUILD_NAMES: Record<ExternalBuild, (release: string) => string> = {
  'own-makefile': (release) => `make (its own Makefile, for ${release}: uname -r and /lib/modules/${release}/build are the target's)`,
  kbuild: (release) => `make -C <${release} headers> M=… modules (kbuild called directly: the fallback)`,
};

async function buildStep(
  kernel: GuestKernel,
  moduleDir: string,
  buildDir: string,
  how: ExternalBuild,
): Promise<{ step: StepResult; koPath?: string; exitCode: number | null; said?: string }> {
  let koPath: string | undefined;
  let exitCode: number | null = null;
  let said: string | undefined;
  const step = await runStep(BUILD_NAMES[how](kernel.kernelRelease), async (recorder) => {
    const result = recorder.record(await kernel.buildExternalModule(moduleDir, buildDir, how));
    exitCode = result.exitCode;
    const output = `${result.stdout}\n${result.stderr}`;
    const ko = builtModule(buildDir);
    if (result.exitCode === 0 && ko) {
      koPath = ko;
      return `${basename(ko)} built (${statSync(ko).size} bytes)`;
    }
    recorder.evidence(firstErrors(output).join('\n') || output.trim().split('\n').slice(-15).join('\n'));
    said = withoutBuildDirs((firstErrors(output, 1)[0] ?? output.trim().split('\n').at(-1) ?? '').trim()) || undefined;
    if (result.exitCode === 0) throw new StepFailure(`make exited 0 and left no .ko`);
    const recognised = recogniseFailures(output);
    throw new StepFailure(
      recognised.length
        ? recognised.map((r) => `${r.signature.explanation} — ${r.signature.remedy}`).join('; ')
        : `the module did not build: ${firstErrors(output, 1)[0] ?? `make exited ${result.exitCode}`}`,
    );
  });
  return { step, exitCode, ...(koPath && { koPath }), ...(said && { said }) };
}

/** The module a build left: toa.ko if there is one, else the only .ko (a vendor may name it otherwise). */
function builtModule(buildDir: string): string | undefined {
  if (!existsSync(buildDir)) return undefined;
  const found = (readdirSync(buildDir, { recursive: true }) as string[]).filter((f) => f.endsWith('.ko'));
  const pick = found.find((f) => basename(f) === 'toa.ko') ?? (found.length === 1 ? found[0] : undefined);
  return pick ? join(buildDir, pick) : undefined;
}

/**
 * "produced no module": make exited 0 both ways and no .ko came out. The cause
 * the lab can name from the source: objects listed under a config symbol
 * (`obj-$(CONFIG_TOA) += toa.o`) that kbuild sees unset — the guide's own
 * Makefile may set it on its make line for its own target, kbuild does not.
 */
export function producedNoModule(moduleDir: string): string {
  const texts = ['Makefile', 'Kbuild'].map((f) => join(moduleDir, f)).filter(existsSync).map((f) => readFileSync(f, 'utf8'));
  const gated = [...new Set(texts.flatMap((t) => [...t.matchAll(/obj-\$\((CONFIG_\w+)\)\s*[:+]?=/g)].map((m) => m[1]!)))];
  return (
    'make exited 0 and left no .ko' +
    (gated.length
      ? `; the Makefile lists its objects under obj-$(${gated.join('), obj-$(')}), which this build leaves unset ` +
        '(no distribution kernel config sets it; give it on the make line, e.g. make ' +
        `${gated.map((g) => `${g}=m`).join(' ')}, or write obj-m)`
      : '; the Makefile names no obj-m for the kernel version kbuild saw')
  );
}

/**
 * A compiler line without the folder the lab built in (`/tmp/toa-lab/s-…/build/toa.c:33:33: error: …`
 * → `toa.c:33:33: error: …`): the same error reads the same on every kernel and every run.
 */
export function withoutBuildDirs(line: string): string {
  return line.replace(/(?:\/[^\s:/'"‘’]+)+\/([^\s/:'"‘’]+:\d+)/g, '$1');
}

/** The Makefile's own line that lists the objects under a config symbol (`obj-$(CONFIG_TOA) += toa.o`), if it has one. */
function gatedObjectLine(moduleDir: string): string | undefined {
  for (const file of ['Makefile', 'Kbuild'].map((f) => join(moduleDir, f)).filter(existsSync)) {
    const line = readFileSync(file, 'utf8').split('\n').find((l) => /obj-\$\(CONFIG_\w+\)\s*[:+]?=/.test(l));
    if (line) return `${basename(file)}: ${line.trim()}`;
  }
  return undefined;
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
