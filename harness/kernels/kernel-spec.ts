import { DEBIAN_SUITES, isDebianSuite, type DebianSuite } from './debian-suite.ts';

/**
 * A kernel, as a user names it: suite, flavour and optionally a version.
 *
 *   sid                      newest generic kernel of sid
 *   bookworm:cloud           newest cloud kernel of bookworm
 *   bookworm=6.1.176-1       exactly that package version
 *   trixie-backports=7.2     newest 7.2.x of trixie-backports (a series)
 *   trixie-backports:rt      PREEMPT_RT
 */
export const KERNEL_FLAVOURS = ['generic', 'cloud', 'rt'] as const;
export type KernelFlavour = (typeof KERNEL_FLAVOURS)[number];

export interface KernelSpec {
  suite: DebianSuite;
  flavour: KernelFlavour;
  /** A Debian package version (6.1.176-1) or an upstream series (7.2); absent: the newest. */
  version?: string;
}

export class KernelSpecError extends Error {
  override readonly name = 'KernelSpecError';
}

export function parseKernelSpec(text: string): KernelSpec {
  const m = /^([a-z-]+)(?::([a-z]+))?(?:=([0-9][0-9A-Za-z.+~:-]*))?$/.exec(text.trim());
  if (!m) throw new KernelSpecError(`--kernel '${text}': expected SUITE[:FLAVOUR][=VERSION], e.g. sid, bookworm:cloud, bookworm=6.1.176-1`);
  const [, suite = '', flavour = 'generic', version] = m;
  if (!isDebianSuite(suite)) throw new KernelSpecError(`--kernel '${text}': unknown suite '${suite}'; known: ${DEBIAN_SUITES.join(', ')}`);
  if (!(KERNEL_FLAVOURS as readonly string[]).includes(flavour)) {
    throw new KernelSpecError(`--kernel '${text}': unknown flavour '${flavour}'; known: ${KERNEL_FLAVOURS.join(', ')}`);
  }
  return { suite, flavour: flavour as KernelFlavour, ...(version && { version }) };
}

export function formatKernelSpec(spec: KernelSpec): string {
  return `${spec.suite}${spec.flavour === 'generic' ? '' : `:${spec.flavour}`}${spec.version ? `=${spec.version}` : ''}`;
}

/**
 * The matrix cell of a kernel: `microvm-sid`, `microvm-bookworm-cloud`,
 * `microvm-bookworm-6.1.176-1`. Distinct specs give distinct names: suites
 * and flavours contain no dots or digits-first parts, and the version keeps
 * its own characters (only `:` and `~`, unsafe in file names, become `_`).
 */
export function kernelCellName(spec: KernelSpec): string {
  const parts = [spec.suite, ...(spec.flavour === 'generic' ? [] : [spec.flavour]), ...(spec.version ? [spec.version.replace(/[:~]/g, '_')] : [])];
  return `microvm-${parts.join('-')}`;
}

export function sameKernelSpec(a: KernelSpec, b: KernelSpec): boolean {
  return a.suite === b.suite && a.flavour === b.flavour && a.version === b.version;
}
