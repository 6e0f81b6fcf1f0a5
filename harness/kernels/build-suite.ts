import { runHostCommand } from '../exec/run-host-command.ts';
import type { DebianSuite } from './debian-suite.ts';
import { gccMajorOf } from './kernel-packages.ts';
import { suiteLists } from './suite-lists.ts';

/**
 * Which Debian suite builds modules for a kernel the lab did not pick: the one
 * whose compiler is the one the headers ask for (kbuild checks
 * CONFIG_CC_VERSION_TEXT against $(CC); a module built by another gcc may
 * build with warnings and still not load). Read from each suite's package
 * lists, not from a table: the suite's default `gcc` and the `gcc-N` packages
 * it serves.
 */
export interface BuildSuiteChoice {
  suite: DebianSuite;
  /** The gcc-N package to install; the build runs with CC=gcc-N. */
  gccPackage: string;
  /** Said to the user when the match is not exact (or the compiler is unknown). */
  note?: string;
}

/** What one suite offers, from its lists. */
export interface SuiteCompilers {
  suite: DebianSuite;
  /** The major version its `gcc` package depends on. */
  defaultGcc: number;
  /** Every gcc-N it serves. */
  served: readonly number[];
}

/** The suites a build may run in, stable ones first (they move least). */
export const BUILD_SUITES: readonly DebianSuite[] = ['bullseye', 'bookworm', 'trixie', 'sid'];

/** Pure: the choice for a compiler description, given what the suites offer. */
export function chooseBuildSuite(compiler: string | undefined, offers: readonly SuiteCompilers[]): BuildSuiteChoice {
  if (offers.length === 0) throw new Error('no Debian suite lists to choose a compiler from');
  const major = compiler ? gccMajorOf(compiler) : undefined;
  if (major === undefined) {
    const fallback = offers.find((o) => o.suite === 'bookworm') ?? offers[0]!;
    return {
      suite: fallback.suite,
      gccPackage: `gcc-${fallback.defaultGcc}`,
      note: `the headers do not say which gcc built the kernel (${compiler ?? 'no CONFIG_CC_VERSION_TEXT or CONFIG_GCC_VERSION'}); building with ${fallback.suite}'s gcc-${fallback.defaultGcc}`,
    };
  }
  const byDefault = offers.find((o) => o.defaultGcc === major);
  if (byDefault) return { suite: byDefault.suite, gccPackage: `gcc-${major}` };
  const serving = offers.find((o) => o.served.includes(major));
  if (serving) {
    return { suite: serving.suite, gccPackage: `gcc-${major}`, note: `the kernel was built with gcc ${major}: building with ${serving.suite}'s gcc-${major} (not its default gcc-${serving.defaultGcc})` };
  }
  const closest = [...offers].sort((a, b) => Math.abs(a.defaultGcc - major) - Math.abs(b.defaultGcc - major) || b.defaultGcc - a.defaultGcc)[0]!;
  return {
    suite: closest.suite,
    gccPackage: `gcc-${closest.defaultGcc}`,
    note:
      `no suite of the archive serves gcc ${major}, which built this kernel (${compiler}); the closest is ${closest.suite}'s gcc-${closest.defaultGcc}: ` +
      'kbuild warns of the difference, and the module may fail to build or load',
  };
}

/** What a suite offers, read from its package lists (harness/kernels/suite-lists.ts). */
export async function suiteCompilers(suite: DebianSuite, log?: (line: string) => void): Promise<SuiteCompilers> {
  const lists = await suiteLists(suite, log);
  const shown = await runHostCommand('apt-cache', [...lists.aptOptions, 'show', 'gcc'], { check: false });
  const defaultGcc = Number(/\bgcc-(\d+)\b/.exec(/^Depends: (.*)$/m.exec(shown.stdout)?.[1] ?? '')?.[1]);
  const names = await runHostCommand('apt-cache', [...lists.aptOptions, 'pkgnames', 'gcc-'], { check: false });
  const served = names.stdout
    .split('\n')
    .map((n) => /^gcc-(\d+)$/.exec(n.trim())?.[1])
    .filter((n): n is string => !!n)
    .map(Number);
  return { suite, defaultGcc, served };
}

export async function buildSuiteFor(compiler: string | undefined, log?: (line: string) => void): Promise<BuildSuiteChoice> {
  const offers: SuiteCompilers[] = [];
  for (const suite of BUILD_SUITES) {
    const offer = await suiteCompilers(suite, log);
    if (Number.isInteger(offer.defaultGcc) && offer.defaultGcc > 0) offers.push(offer);
  }
  return chooseBuildSuite(compiler, offers);
}
