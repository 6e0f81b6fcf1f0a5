import { SCENARIOS } from '../../scenarios/index.ts';
import { FULL_OS_SCENARIOS } from './full-os-cell.ts';
import { IMAGES, type LabImage } from './lab-images.ts';
import { UsageError } from './run-scenarios.ts';
import { shardPairs, type Shard } from './shard.ts';

/**
 * Which image × scenario cells a run executes: `run` executes this plan,
 * `list` prints it, `matrix` and `report merge --expect` compare with it. One
 * function, so what is listed is what runs.
 *
 * - images: the named ones (unknown names are a usage error), else the default set;
 * - scenarios: the named ones in canonical order, else all; data-path scenarios apply
 *   to every image, the guide's procedure rows to whole OSes only;
 * - `only`: keep just these `cell × scenario` pairs (--rerun-failed); with no images
 *   named, the images are those the pairs name;
 * - then this shard's share of the pairs (harness/runner/shard.ts).
 */
export const SCENARIO_IDS: readonly string[] = [...SCENARIOS.map((s) => s.id), ...FULL_OS_SCENARIOS.map((s) => s.id)];

/** The cells and scenarios a run (or a whole sharded CI run) meant to execute: `list --json` prints it. */
export interface RunPlan {
  planVersion: 1;
  cells: PlannedCell[];
  shard?: Shard;
}

export interface PlannedCell {
  /** Stable: results, JUnit, diff and trend key on it. */
  id: string;
  image: string;
  kind: 'micro' | 'full-os';
  scenarios: string[];
}

export interface CellSelection {
  images?: readonly string[];
  scenarios?: readonly string[];
  shard?: Shard;
  only?: ReadonlySet<string>;
}

/** One image's share of the run. */
export interface CellWork {
  image: LabImage;
  ids: string[];
}

export function pairKey(cell: string, scenario: string): string {
  return `${cell} × ${scenario}`;
}

export function planCells(selection: CellSelection): { work: CellWork[]; plan: RunPlan } {
  const wanted = selection.scenarios ?? [];
  const unknown = wanted.filter((id) => !SCENARIO_IDS.includes(id));
  if (unknown.length) throw new UsageError(`unknown scenario ${unknown.join(', ')}; known: ${SCENARIO_IDS.join(', ')}`);
  const scenarioIds = wanted.length ? SCENARIO_IDS.filter((id) => wanted.includes(id)) : SCENARIO_IDS;
  const only = selection.only;
  const images =
    only && !selection.images?.length
      ? IMAGES.filter((image) => [...only].some((key) => key.startsWith(`${image.name} × `)))
      : selectImages(selection.images ?? []);

  // Whole OSes run the data-path scenarios too, after the guide's procedure installed toa.ko.
  const applies = (image: LabImage, id: string): boolean =>
    SCENARIOS.some((s) => s.id === id) || (image.kind === 'full-os' && FULL_OS_SCENARIOS.some((s) => s.id === id));
  const pairs = images
    .flatMap((image) => scenarioIds.filter((id) => applies(image, id)).map((id) => ({ image, id })))
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

export function selectImages(names: readonly string[]): LabImage[] {
  if (names.length === 0) return IMAGES.filter((i) => i.byDefault);
  const unknown = names.filter((n) => !IMAGES.some((i) => i.name === n));
  if (unknown.length) throw new UsageError(`unknown image ${unknown.join(', ')}; known: ${IMAGES.map((i) => i.name).join(', ')}`);
  return IMAGES.filter((i) => names.includes(i.name));
}
