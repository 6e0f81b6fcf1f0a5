import type { MicroLab } from '../harness/lab/micro-lab.ts';
import type { Scenario } from '../harness/runner/scenario.ts';
import { bulkTransfer } from './bulk-transfer.ts';
import { fullnatNoToa } from './fullnat-no-toa.ts';
import { fullnatToaV4 } from './fullnat-toa-v4.ts';
import { rmmodOpenConnections } from './rmmod-open-connections.ts';
import { toaKindFilter } from './toa-kind-filter.ts';

/** Every scenario, in the order a run executes them. */
export const SCENARIOS: ReadonlyArray<Scenario<MicroLab>> = [
  fullnatToaV4,
  fullnatNoToa,
  toaKindFilter,
  bulkTransfer,
  rmmodOpenConnections,
];
