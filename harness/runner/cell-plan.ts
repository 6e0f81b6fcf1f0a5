import { SCENARIOS } from '../../scenarios/index.ts';
import { GUIDE_PROFILES, repositoryHosts, type OsProfile } from '../os/index.ts';
import { DEFAULT_REPOSITORY_HOSTS } from '../provision/package-proxy.ts';
import { loadProfiles } from '../os/user-config.ts';
import { configuredRowTarget, diskImageFileTarget } from './disk-image-targets.ts';
import { FULL_OS_SCENARIOS } from './full-os-cell.ts';
import { IMAGES, type LabImage } from './lab-images.ts';
import { UsageError } from './run-scenarios.ts';
import { pairKey, type PlannedCell, type RunPlan, type Shard } from '../core/plan.ts';
import { shardPairs } from './shard.ts';
import type { ToaModuleChoice } from '../toa/module-choice.ts';

export { pairKey, type PlannedCell, type RunPlan } from '../core/plan.ts';

/**
 * Which image × scenario cells a run executes: `run` executes this plan,
 * `list` prints it, `matrix` and `report merge --expect` compare with it. One
 * function, so what is listed is what runs.
 *
 * - images: the named ones (the lab's, and guide rows by their configured image; unknown
 *   names are a usage error), disk files, and kernel cells (resolved by the caller:
 *   kernel-cells.ts asks the archive); with none of these, the default set;
 * - scenarios: the named ones in canonical order, else all; data-path scenarios apply
 *   to every image, the guide's procedure rows to whole OSes only;
 * - modules: two or more modules under test make a module dimension — each image once per
 *   module, cell id `<image>+<module>` (cellId); one module (the default) keeps the image
 *   name as the id, as before. A whole OS boots once per module (the guide builds each
 *   module's source there); a prebuilt .ko is not planned on a whole OS, nor a vendor's
 *   module on the patched-kernel path (it builds ours in-tree): `left` says which and why;
 * - `only`: keep just these `cell × scenario` pairs (--rerun-failed); with no images
 *   named, the images are those the pairs name (give the run's module flags again);
 * - then this shard's share of the pairs (harness/runner/shard.ts).
 */
export const SCENARIO_IDS: readonly string[] = [...SCENARIOS.map((s) => s.id), ...FULL_OS_SCENARIOS.map((s) => s.id)];

export interface CellSelection {
  images?: readonly string[];
  /** --image-file: a user's disks. */
  imageFiles?: readonly string[];
  /** --config: where guide rows find their images (default toa-lab.config.json in the working folder). */
  configFile?: string;
  /** --kernel: micro-VM cells already resolved against the archive. */
  kernels?: readonly LabImage[];
  scenarios?: readonly string[];
  shard?: Shard;
  only?: ReadonlySet<string>;
  /** The modules under test; two or more make the run a module × kernel matrix. */
  modules?: readonly PlanModule[];
}

/** What the plan needs of a module under test: its name (part of the cell id) and where it comes from. */
export interface PlanModule {
  name: string;
  origin: ToaModuleChoice['origin'];
}

/** One cell's share of the run: an image (and, in a module matrix, the module it tests). */
export interface CellWork {
  /** The cell's id (cellId): what results, JUnit, --rerun-failed and --shard key on. */
  id: string;
  image: LabImage;
  /** Set in a run of two or more modules. */
  module?: string;
  ids: string[];
}

/** An image × module pair a module matrix does not run, and why (said in the run's notes and by `list`). */
export interface LeftOutCell {
  image: string;
  module: string;
  reason: string;
}


export function planCells(selection: CellSelection): { work: CellWork[]; plan: RunPlan; left: LeftOutCell[] } {
  const wanted = selection.scenarios ?? [];
  const unknown = wanted.filter((id) => !SCENARIO_IDS.includes(id));
  if (unknown.length) throw new UsageError(`unknown scenario ${unknown.join(', ')}; known: ${SCENARIO_IDS.join(', ')}`);
  const scenarioIds = wanted.length ? SCENARIO_IDS.filter((id) => wanted.includes(id)) : SCENARIO_IDS;
  const only = selection.only;
  const named = selection.images ?? [];
  const files = selection.imageFiles ?? [];
  const kernels = selection.kernels ?? [];
  const modules: ReadonlyArray<PlanModule | undefined> = (selection.modules?.length ?? 0) > 1 ? selection.modules! : [undefined];
  const onlyKernels = kernels.length > 0 && named.length === 0 && files.length === 0;
  const images =
    only && !named.length && !files.length && !kernels.length
      ? IMAGES.filter((image) => modules.some((module) => [...only].some((key) => key.startsWith(`${cellId(image, module?.name)} × `))))
      : [...(onlyKernels ? [] : selectImages(named, files, selection.configFile)), ...kernels.filter((k) => !named.includes(k.name))];

  const left: LeftOutCell[] = [];
  const cells = images.flatMap((image) =>
    modules.flatMap((module) => {
      const reason = module && moduleLeftOut(image, module);
      if (reason) {
        left.push({ image: image.name, module: module.name, reason });
        return [];
      }
      return [{ id: cellId(image, module?.name), image, ...(module && { module: module.name }) }];
    }),
  );
  const pairs = cells
    .flatMap((cell) => scenarioIds.filter((id) => scenarioApplies(cell.image, id)).map((id) => ({ cell, id })))
    .filter((p) => !only || only.has(pairKey(p.cell.id, p.id)));
  const mine = shardPairs(pairs, selection.shard);
  const work = cells
    .map((cell): CellWork => ({ ...cell, ids: mine.filter((p) => p.cell === cell).map((p) => p.id) }))
    .filter((w) => w.ids.length > 0);
  const planned = work.map(
    (w): PlannedCell => ({ id: w.id, image: w.image.name, kind: w.image.kind, ...(w.module !== undefined && { module: w.module }), scenarios: w.ids }),
  );
  return { work, plan: { planVersion: 1, cells: planned, ...(selection.shard && { shard: selection.shard }) }, left };
}

/**
 * A cell's stable id: the image name in a one-module run (as always), `<image>+<module>` in a
 * module matrix. Never two alike: module names are [a-z][a-z0-9_-]* (no '+'), so the last '+'
 * splits an id into its image and module even when the image name has one (a kernel release
 * such as 7.2.13+deb14-amd64).
 */
export function cellId(image: LabImage, module?: string): string {
  return module === undefined ? image.name : `${image.name}+${module}`;
}

/** Why an image does not run a module in a module matrix, if it does not. */
export function moduleLeftOut(image: LabImage, module: PlanModule): string | undefined {
  if (image.kind === 'full-os' && module.origin === 'prebuilt') {
    return "a prebuilt .ko is for micro-VMs (their kernel is known); a whole OS builds the module's source by the guide's steps";
  }
  if (image.kind === 'patched-kernel' && module.origin !== 'toa-lab') return "the patched-kernel path builds toa-lab's module in-tree";
  if (module.origin === 'bpf') return 'eBPF TOA is not a module under test in a module matrix (use --toa-bpf alone)';
  return undefined;
}

/** The scenarios an image of this kind runs: the data path everywhere, the procedure rows where there is a procedure. */
export function scenarioApplies(image: LabImage, id: string): boolean {
  if (SCENARIOS.some((s) => s.id === id)) return true;
  // Whole OSes run the data-path scenarios too, after the guide's procedure installed toa.ko.
  if (image.kind === 'full-os') return FULL_OS_SCENARIOS.some((s) => s.id === id);
  return image.kind === 'patched-kernel' && id === 'guide-procedure';
}

/**
 * A guide row's configured image; with a mirror or archive for its packages (the row's
 * data or the user's config), that host joins the package proxy's allow-list for the run
 * (the guest still reaches nothing else) and the procedure points the guest there.
 */
function rowImage(row: OsProfile, configFile: string | undefined): LabImage {
  const disk = configuredRowTarget(row, configFile);
  if (!row.repositories) return { kind: 'full-os', name: row.id, byDefault: false, disk };
  const hosts = [...new Set([...(disk.repositoryHosts ?? DEFAULT_REPOSITORY_HOSTS), ...repositoryHosts(row.repositories)])];
  return { kind: 'full-os', name: row.id, byDefault: false, disk: { ...disk, repositoryHosts: hosts }, repositories: row.repositories };
}

/**
 * The lab's images by name, guide rows by their configured image, and disk files; with none
 * named, the lab's default set. Checked here, before anything is resolved, built or booted.
 */
export function selectImages(names: readonly string[], files: readonly string[] = [], configFile?: string): LabImage[] {
  const fromFiles = files.map((file): LabImage => {
    const target = diskImageFileTarget(file);
    return target.kind === 'vagrant-box'
      ? { kind: 'full-os', name: target.name, byDefault: false, box: target }
      : { kind: 'full-os', name: target.name, byDefault: false, disk: target };
  });
  if (names.length === 0) return fromFiles.length ? fromFiles : IMAGES.filter((i) => i.byDefault);
  const { profiles, configFile: usedConfig } = loadProfiles(configFile);
  // Guide rows, and lab rows whose image the user's config replaced (its `debian-12` disk instead of the lab's).
  const isRow = (p: (typeof profiles)[number]) => GUIDE_PROFILES.some((g) => g.id === p.id) || p.images.every((s) => s.kind !== 'offline-debian');
  const rows = new Map(profiles.filter(isRow).map((p) => [p.id, p]));
  const unknown = names.filter((n) => !IMAGES.some((i) => i.name === n) && !rows.has(n));
  if (unknown.length) {
    throw new UsageError(`unknown image ${unknown.join(', ')}; known: ${IMAGES.map((i) => i.name).join(', ')}; guide rows: ${[...rows.keys()].join(', ')}`);
  }
  const fromRows = names.filter((n) => rows.has(n)).map((n) => rowImage(rows.get(n)!, usedConfig));
  const all = [...IMAGES.filter((i) => names.includes(i.name) && !rows.has(i.name)), ...fromRows, ...fromFiles];
  const cellNames = all.map((i) => i.name);
  const twice = cellNames.filter((n, i) => cellNames.indexOf(n) !== i);
  if (twice.length) throw new UsageError(`two images would share the cell name ${twice.join(', ')}: rename a file`);
  return all;
}
