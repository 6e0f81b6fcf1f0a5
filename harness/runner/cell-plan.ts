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
 * - `only`: keep just these `cell × scenario` pairs (--rerun-failed); with no images
 *   named, the images are those the pairs name;
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
}

/** One image's share of the run. */
export interface CellWork {
  image: LabImage;
  ids: string[];
}


export function planCells(selection: CellSelection): { work: CellWork[]; plan: RunPlan } {
  const wanted = selection.scenarios ?? [];
  const unknown = wanted.filter((id) => !SCENARIO_IDS.includes(id));
  if (unknown.length) throw new UsageError(`unknown scenario ${unknown.join(', ')}; known: ${SCENARIO_IDS.join(', ')}`);
  const scenarioIds = wanted.length ? SCENARIO_IDS.filter((id) => wanted.includes(id)) : SCENARIO_IDS;
  const only = selection.only;
  const named = selection.images ?? [];
  const files = selection.imageFiles ?? [];
  const kernels = selection.kernels ?? [];
  const onlyKernels = kernels.length > 0 && named.length === 0 && files.length === 0;
  const images =
    only && !named.length && !files.length && !kernels.length
      ? IMAGES.filter((image) => [...only].some((key) => key.startsWith(`${image.name} × `)))
      : [...(onlyKernels ? [] : selectImages(named, files, selection.configFile)), ...kernels.filter((k) => !named.includes(k.name))];

  const pairs = images
    .flatMap((image) => scenarioIds.filter((id) => scenarioApplies(image, id)).map((id) => ({ image, id })))
    .filter((p) => !only || only.has(pairKey(p.image.name, p.id)));
  const mine = shardPairs(pairs, selection.shard);
  const work = images
    .map((image) => ({ image, ids: mine.filter((p) => p.image === image).map((p) => p.id) }))
    .filter((w) => w.ids.length > 0);
  const cells = work.map((w): PlannedCell => ({ id: cellId(w.image), image: w.image.name, kind: w.image.kind, scenarios: w.ids }));
  return { work, plan: { planVersion: 1, cells, ...(selection.shard && { shard: selection.shard }) } };
}

/** A cell's stable id: the image name (one module per run, so no module suffix is needed). */
export function cellId(image: LabImage): string {
  return image.name;
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
