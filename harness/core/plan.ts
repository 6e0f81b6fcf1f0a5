/**
 * What a run meant to execute, as data shared by the runner (which makes it)
 * and the reports (which check results against it: merge --expect, JUnit's
 * never-reported cells, trend): below both, so neither imports the other.
 */
export interface Shard {
  index: number; // 1-based
  count: number;
}

/** The kinds of cell a plan holds (harness/runner/lab-images.ts's LabImage kinds). */
export type CellKind = 'micro' | 'full-os' | 'patched-kernel';

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
  kind: CellKind;
  /** The module under test, in a run of two or more (the id is then `<image>+<module>`). */
  module?: string;
  scenarios: string[];
}

/** One cell × scenario pair, as text: what --rerun-failed and merge --expect compare. */
export function pairKey(cell: string, scenario: string): string {
  return `${cell} × ${scenario}`;
}
