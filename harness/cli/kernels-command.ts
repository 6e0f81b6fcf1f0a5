import { parseArgs } from 'node:util';
import { imageFileServed, suiteKernels, type ArchiveKernel } from '../kernels/archive-kernels.ts';
import { DEBIAN_SUITES, isDebianSuite, type DebianSuite } from '../kernels/debian-suite.ts';
import { DEFAULT_KERNELS } from '../kernels/default-kernels.ts';
import { formatKernelSpec, kernelCellName } from '../kernels/kernel-spec.ts';
import { UsageError } from '../runner/run-scenarios.ts';

export const KERNELS_HELP = `usage: toa-lab kernels list [--suite SUITE[,SUITE...]] [--all]

Lists the kernels Debian's archive serves now, read from apt's package lists of
each suite's main component (fetched into the lab's cache, at most once a day;
sid, forky and experimental with Acquire::Check-Valid-Until=false, since this
archive serves their Release files past that date). Each row can be run with
'toa-lab run --kernel SPEC' unless its last column says why not (headers gone; the
image's file missing from the archive, asked with one HEAD request per row).

  --suite   only these suites (default: ${DEBIAN_SUITES.join(', ')})
  --all     every kernel version (default: the newest of each suite × flavour × series)

The default lab's kernels: ${DEFAULT_KERNELS.map(formatKernelSpec).join(', ')}.
`;

export async function kernelsCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'list') throw new UsageError(`toa-lab kernels: unknown subcommand '${sub ?? ''}'\n\n${KERNELS_HELP}`);
  const { values } = parseArgs({ args: rest, options: { suite: { type: 'string', multiple: true }, all: { type: 'boolean' } } });
  const wanted = (values.suite ?? []).flatMap((s) => s.split(',')).filter(Boolean);
  const bad = wanted.filter((s) => !isDebianSuite(s));
  if (bad.length) throw new UsageError(`unknown suite ${bad.join(', ')}; known: ${DEBIAN_SUITES.join(', ')}`);
  const suites = wanted.length ? (wanted as DebianSuite[]) : [...DEBIAN_SUITES];

  const rows: string[][] = [['SPEC', 'SUITE', 'FLAVOUR', 'VERSION', 'RELEASE', 'PACKAGES', 'HEADERS']];
  const notes: string[] = [];
  for (const suite of suites) {
    const { kernels, lists, defaults } = await suiteKernels(suite, (line) => process.stderr.write(`${line}\n`));
    notes.push(...lists.notes);
    const shown = values.all ? kernels : newestPerSeries(kernels);
    // Only the runnable rows are asked about; an index may name a pool file the mirror lacks.
    const served = await Promise.all(shown.map((k) => (k.headersServed ? imageFileServed(k) : Promise.resolve(true))));
    for (const [i, k] of shown.entries()) {
      const isDefault = defaults.get(k.flavour) === k.image.name;
      const spec = formatKernelSpec({ suite, flavour: k.flavour, ...(isDefault ? {} : { version: k.image.version }) });
      const runnable = !k.headersServed ? 'gone (not runnable)' : served[i] ? 'yes' : 'image file missing from the archive (404; not runnable)';
      rows.push([spec, suite, k.flavour, k.image.version, k.release, k.packages.length > 1 ? 'split' : 'single', runnable]);
    }
  }
  process.stdout.write(table(rows));
  for (const note of notes) process.stdout.write(`# ${note}\n`);
  process.stdout.write(`# default lab: ${DEFAULT_KERNELS.map((k) => `${formatKernelSpec(k)} (${kernelCellName(k)})`).join(', ')}\n`);
  return 0;
}

function newestPerSeries(kernels: readonly ArchiveKernel[]): ArchiveKernel[] {
  const newest = new Map<string, ArchiveKernel>();
  for (const k of kernels) newest.set(`${k.flavour}/${k.series}`, k); // sorted oldest first: the last one wins
  return [...newest.values()];
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd() + '\n').join('');
}
