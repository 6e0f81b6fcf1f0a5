import { readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { repoRoot } from '../repo-root.ts';
import { succeeded, type CommandResult } from '../exec/command-result.ts';
import { runStep, StepFailure, type StepRecorder, type StepResult } from '../core/step.ts';
import { describeSource, type KernelSource } from './kernel-source.ts';
import { configValue, applyGuideConfig } from './kernel-config.ts';
import { appendExtraversion } from './kernel-makefile.ts';
import { hookNetKconfig, hookNetMakefile, intreeToaFiles } from './intree-patch.ts';
import { setToaOptionKind, TOA_HEADER, toaOptionKindOf } from './toa-header.ts';
import {
  renderBaseConfigScript,
  renderBuildScript,
  renderKernelInstallScript,
  renderModulesInstallScript,
  renderObtainSourceScript,
  renderResolveConfigScript,
} from './scripts.ts';
import type { BuildMachine } from './tree-access.ts';

/**
 * Guide steps 1–6 of the 2.6.32 procedure (obtain the tree, edit toa.h, .config,
 * Makefile, make, modules_install, install), each a StepResult with its
 * duration, commands and evidence, on a BuildMachine (guest or host). The first
 * failed step ends the run; the remaining ones are reported as skipped.
 */
export interface KernelBuildOptions {
  machine: BuildMachine;
  source: KernelSource;
  /** Where the tree is unpacked. */
  workDir: string;
  /** TCPOPT_TOA after step 2: 254 (Huawei ELB) in the guide. */
  toaKind: number;
  /** Appended to EXTRAVERSION in step 4: `-toa` in the guide. */
  extraversion: string;
  /** make -j: the guide's "number of vCPUs"; default: the build machine's CPUs. */
  jobs?: number;
  /** Host builds: install into a staging root instead of the machine's own /boot and /lib/modules. */
  staging?: { root: string; installKernelHome: string };
  timeouts?: { buildMs?: number };
  log?: (line: string) => void;
}

export interface KernelBuildOutcome {
  steps: StepResult[];
  passed: boolean;
  treeDir: string;
  /** `make -s kernelrelease` after step 4, e.g. 6.1.192-toa. */
  release?: string;
}

export const BUILD_STEP_NAMES = [
  '1. Obtain the kernel source tree',
  '2. net/toa/toa.h: TCPOPT_TOA',
  '3. .config: CONFIG_IPV6=y, CONFIG_TOA=m',
  '4. Makefile: EXTRAVERSION suffix',
  '5a. make -j n',
  '5b. make modules_install',
  '5c. make install',
] as const;

export async function buildPatchedKernel(options: KernelBuildOptions): Promise<KernelBuildOutcome> {
  const { machine, source, workDir } = options;
  const log = options.log ?? (() => {});
  const treeDir = posix.join(workDir, source.kind === 'lvs-tarball' ? source.tree : `linux-source-${source.series}`);
  const at = (path: string): string => posix.join(treeDir, path);
  let release: string | undefined;

  const script = async (step: StepRecorder, text: string, timeoutMs = 600_000): Promise<CommandResult> => {
    const result = step.record(await machine.runScript(text, { timeoutMs }));
    if (!succeeded(result)) {
      const why = (result.stderr.trim().split('\n').filter((l) => l.startsWith('toa-lab:')).at(-1) ?? `exit ${result.exitCode}`).replace(/^toa-lab: /, '');
      throw new StepFailure(result.timedOut ? `timed out after ${Math.round(timeoutMs / 1000)} s` : why);
    }
    return result;
  };
  const edit = async (step: StepRecorder, path: string, apply: (text: string) => { content: string; changed: boolean; summary: string }) => {
    const before = await machine.readFile(at(path));
    const result = apply(before);
    if (result.changed) await machine.writeFile(at(path), result.content);
    step.evidence(`${path}: ${result.summary}`);
    return result;
  };

  const bodies: Array<(step: StepRecorder) => Promise<string>> = [
    async (step) => {
      await script(step, renderObtainSourceScript(source, workDir), 1_800_000);
      if (source.kind === 'lvs-tarball') return `${describeSource(source)} unpacked to ${treeDir}`;
      const added: string[] = [];
      for (const [path, content] of await intreeToaFiles()) {
        await machine.writeFile(at(path), content);
        added.push(path);
      }
      await machine.writeFile(at('kernel/configs/toa-lab.config'), await readRepoFile('native/toa-intree/toa-lab.config'));
      step.evidence(`in-tree TOA: ${added.join(', ')}`);
      await edit(step, 'net/Kconfig', hookNetKconfig);
      await edit(step, 'net/Makefile', hookNetMakefile);
      const base = await script(step, renderBaseConfigScript(treeDir));
      return `${describeSource(source)} unpacked to ${treeDir}, toa-lab's net/toa applied; ${lastLine(base.stdout)}`;
    },
    async (step) => {
      const result = await edit(step, TOA_HEADER, (text) => setToaOptionKind(text, options.toaKind));
      const kind = toaOptionKindOf(await machine.readFile(at(TOA_HEADER)));
      if (kind !== options.toaKind) throw new StepFailure(`${TOA_HEADER} defines TCPOPT_TOA ${kind} after the edit`);
      return result.summary;
    },
    async (step) => {
      const result = await edit(step, '.config', applyGuideConfig);
      const resolved = await script(step, renderResolveConfigScript(treeDir));
      const config = await machine.readFile(at('.config'));
      const toa = configValue(config, 'TOA');
      const ipv6 = configValue(config, 'IPV6');
      step.evidence(`after kbuild resolved it:\n${resolved.stdout.trim()}`);
      if (toa.state !== 'set' || toa.value !== 'm') {
        throw new StepFailure(`kbuild dropped CONFIG_TOA=m (its dependencies INET, NETFILTER, KPROBES, KRETPROBES are not met in this .config)`);
      }
      if (ipv6.state !== 'set' || ipv6.value !== 'y') throw new StepFailure('CONFIG_IPV6 is not y after kbuild resolved the .config');
      return `${result.summary}; kbuild kept CONFIG_TOA=m, CONFIG_IPV6=y`;
    },
    async (step) => {
      const result = await edit(step, 'Makefile', (text) => appendExtraversion(text, options.extraversion));
      const shown = await script(step, `cd '${treeDir}' && make -s kernelrelease`);
      release = lastLine(shown.stdout);
      if (!release.endsWith(options.extraversion)) throw new StepFailure(`make kernelrelease says ${release}, without ${options.extraversion}`);
      return `${result.summary}; kernelrelease ${release}`;
    },
    async (step) => {
      log(`building ${release} (make -j ${options.jobs ?? 'nproc'}); this is the long part`);
      const built = await script(step, renderBuildScript({ treeDir, ...(options.jobs !== undefined && { jobs: options.jobs }) }), options.timeouts?.buildMs ?? 4 * 3_600_000);
      return lastLine(built.stdout);
    },
    async (step) => {
      const { staging } = options;
      const installed = await script(step, renderModulesInstallScript({ treeDir, ...(staging && { stagingRoot: staging.root }) }), 1_800_000);
      return lastLine(installed.stdout);
    },
    async (step) => {
      const { staging } = options;
      const installed = await script(
        step,
        renderKernelInstallScript({ treeDir, ...(staging && { stagingRoot: staging.root, installKernelHome: staging.installKernelHome }) }),
      );
      return lastLine(installed.stdout);
    },
  ];

  const steps: StepResult[] = [];
  const names = BUILD_STEP_NAMES;
  for (const [index, body] of bodies.entries()) {
    const name = names[index]!;
    if (steps.some((s) => s.status !== 'passed')) {
      steps.push({ name, status: 'skipped', durationMs: 0, summary: 'an earlier step failed', commands: [] });
      continue;
    }
    log(`step ${name}`);
    const result = await runStep(name, body);
    log(`  ${result.status}: ${result.summary} (${(result.durationMs / 1000).toFixed(1)} s)`);
    steps.push(result);
  }
  return { steps, passed: steps.every((s) => s.status === 'passed'), treeDir, ...(release && { release }) };
}

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1)?.trim() ?? '';
}

function readRepoFile(path: string): Promise<string> {
  return readFile(join(repoRoot(), path), 'utf8');
}
