import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { type ParseArgsConfig } from 'node:util';
import { planCells, type CellSelection, type PlanModule } from '../runner/cell-plan.ts';
import { ModuleSpecError, namedModulesFrom } from '../toa/module-spec.ts';
import { kernelCells, userKernelCells } from '../runner/kernel-cells.ts';
import { parseShard, type Shard } from '../runner/shard.ts';
import { failedPairs } from '../report/rerun-failed.ts';
import { UsageError } from '../runner/run-scenarios.ts';

/**
 * The options that choose a run's cells, shared by `run` and `list` (and so
 * parsed the same way): --image, --image-file, --config, --kernel, --kernel-deb,
 * --headers-deb, --kernel-rpm, --devel-rpm, --scenario,
 * --shard (or GitLab's CI_NODE_INDEX/CI_NODE_TOTAL), --rerun-failed, and the modules under
 * test (--toa-source, --toa-ko: two or more make a module dimension, cells `<image>+<module>`).
 */
export const SELECTION_OPTIONS = {
  image: { type: 'string', multiple: true },
  'image-file': { type: 'string', multiple: true },
  config: { type: 'string' },
  kernel: { type: 'string', multiple: true },
  'kernel-deb': { type: 'string', multiple: true },
  'headers-deb': { type: 'string', multiple: true },
  'kernel-rpm': { type: 'string', multiple: true },
  'devel-rpm': { type: 'string', multiple: true },
  scenario: { type: 'string', multiple: true },
  shard: { type: 'string' },
  'rerun-failed': { type: 'string' },
  'toa-source': { type: 'string', multiple: true },
  'toa-ko': { type: 'string', multiple: true },
} as const satisfies ParseArgsConfig['options'];

export const SELECTION_HELP = `  --shard      run only shard i of n of the image × scenario pairs (CI matrices). Without
               --shard, GitLab's CI_NODE_INDEX/CI_NODE_TOTAL (parallel: N) give the shard;
               an explicit --shard wins over them
  --rerun-failed DIR  only the cell × scenario pairs that failed (or were planned and never
               reported) in the run at DIR (its results.jsonl); --image/--scenario narrow it
               (in a module matrix, give the run's --toa-source/--toa-ko flags again)`;

export interface SelectionValues {
  image?: string[] | undefined;
  'image-file'?: string[] | undefined;
  config?: string | undefined;
  kernel?: string[] | undefined;
  'kernel-deb'?: string[] | undefined;
  'headers-deb'?: string[] | undefined;
  'kernel-rpm'?: string[] | undefined;
  'devel-rpm'?: string[] | undefined;
  scenario?: string[] | undefined;
  shard?: string | undefined;
  'rerun-failed'?: string | undefined;
  'toa-source'?: string[] | undefined;
  'toa-ko'?: string[] | undefined;
}

export function selectionFrom(values: SelectionValues, env: NodeJS.ProcessEnv = process.env): CellSelection {
  const shard = resolveShard(values.shard, env);
  const rerun = values['rerun-failed'];
  return {
    images: splitList(values.image),
    imageFiles: values['image-file'] ?? [],
    ...(values.config !== undefined && { configFile: values.config }),
    scenarios: splitList(values.scenario),
    ...(shard && { shard }),
    ...(rerun !== undefined && { only: failedPairs(rerun) }),
    modules: planModules(values),
  };
}

/** The modules under test as the plan needs them (names and origins); a malformed flag is a usage error. */
export function planModules(values: Pick<SelectionValues, 'toa-source' | 'toa-ko'>): PlanModule[] {
  try {
    return namedModulesFrom({ toaSource: values['toa-source'], toaKo: values['toa-ko'] }, { exists: existsSync, resolvePath: (p) => resolve(p) }).map(
      (m) => ({ name: m.name, origin: m.choice.origin }),
    );
  } catch (error) {
    if (error instanceof ModuleSpecError) throw new UsageError(error.message);
    throw error;
  }
}

/** The plan for these flags; each --kernel is checked against the archive first (not served: exit 2). */
export async function planFrom(values: SelectionValues, env: NodeJS.ProcessEnv = process.env): Promise<ReturnType<typeof planCells>> {
  const say = (line: string) => process.stderr.write(`toa-lab: ${line}\n`);
  const kernels = [
    ...(await kernelCells(values.kernel ?? [], say)),
    ...(await userKernelCells(
      {
        deb: { kernel: values['kernel-deb'] ?? [], headers: values['headers-deb'] ?? [] },
        rpm: { kernel: values['kernel-rpm'] ?? [], headers: values['devel-rpm'] ?? [] },
      },
      say,
    )),
  ];
  return planCells({ ...selectionFrom(values, env), kernels });
}

/** --shard i/n; else GitLab's parallel job variables (1-based index); else the whole run. */
export function resolveShard(flag: string | undefined, env: NodeJS.ProcessEnv): Shard | undefined {
  if (flag !== undefined) return parseShard(flag);
  const index = env.CI_NODE_INDEX;
  const total = env.CI_NODE_TOTAL;
  if (!index || !total) return undefined;
  try {
    return parseShard(`${index}/${total}`);
  } catch {
    throw new UsageError(`CI_NODE_INDEX=${index} CI_NODE_TOTAL=${total} do not make a shard i/n with 1 ≤ i ≤ n`);
  }
}

export function splitList(values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
}
