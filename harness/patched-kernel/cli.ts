/**
 * `tsx harness/patched-kernel/cli.ts build`: builds (or finds) the cached patched
 * kernel and prints its steps. The full path, boot and scenario included, is
 * `npm run test:kernel`.
 */
import { ensurePatchedKernel, KernelBuildError } from './kernel-cache.ts';
import { formatStepTable } from './step-table.ts';

const command = process.argv[2] ?? 'build';
if (command !== 'build') {
  console.error('usage: tsx harness/patched-kernel/cli.ts build');
  process.exit(2);
}
const started = Date.now();
try {
  const kernel = await ensurePatchedKernel({ log: (line) => console.log(`[${new Date().toISOString()}] ${line}`) });
  console.log(formatStepTable(kernel.buildSteps));
  console.log(`${kernel.built ? 'built' : 'cached'}: ${kernel.release} in ${kernel.dir} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
} catch (error) {
  if (error instanceof KernelBuildError) console.log(formatStepTable(error.outcome.steps));
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
