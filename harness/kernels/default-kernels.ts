import type { KernelSpec } from './kernel-spec.ts';

/**
 * The kernels the default lab boots besides the three micro-VM suites
 * (bullseye 5.10, bookworm 6.1, trixie 6.12, see images/microvm): one per
 * newer series the archive serves, taken from trixie-backports (it moves less
 * than sid), and one cloud flavour. Each is one micro-VM cell (~2–4 min under
 * TCG on a shared 2-core host, BENCHMARKS.md); the rest are one --kernel away.
 */
export const DEFAULT_KERNELS: readonly KernelSpec[] = [
  { suite: 'trixie-backports', flavour: 'generic', version: '7.2' },
  { suite: 'trixie-backports', flavour: 'generic', version: '7.3' },
  { suite: 'trixie', flavour: 'cloud' },
];
