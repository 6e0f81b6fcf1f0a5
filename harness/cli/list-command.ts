import { parseArgs } from 'node:util';
import { SELECTION_HELP, SELECTION_OPTIONS, planFrom } from './cell-selection.ts';

export const LIST_HELP = `usage: toa-lab list [--image NAME[,NAME...]] [--scenario ID[,ID...]] [--shard i/n]
                    [--rerun-failed DIR] [--json]

Prints the cells a 'toa-lab run' with the same flags would execute — one line per
cell (its stable id, the image kind, its scenarios) — without resolving, building
or booting anything. The selection is run's own (harness/runner/cell-plan.ts).

  --json       the plan as JSON: {"planVersion":1,"cells":[{"id","image","kind","scenarios"}]};
               'toa-lab report merge --expect FILE' takes it
${SELECTION_HELP}
`;

export async function listCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { ...SELECTION_OPTIONS, json: { type: 'boolean' } } });
  const { plan } = await planFrom(values);
  if (values.json) {
    process.stdout.write(`${JSON.stringify(plan, null, 2)}\n`);
    return 0;
  }
  const width = Math.max(4, ...plan.cells.map((c) => c.id.length));
  for (const cell of plan.cells) process.stdout.write(`${cell.id.padEnd(width)}  ${cell.kind.padEnd(7)}  ${cell.scenarios.join(' ')}\n`);
  const pairs = plan.cells.reduce((sum, c) => sum + c.scenarios.length, 0);
  process.stdout.write(`# ${plan.cells.length} cells, ${pairs} cell × scenario pairs${plan.shard ? ` (shard ${plan.shard.index}/${plan.shard.count})` : ''}\n`);
  return 0;
}
