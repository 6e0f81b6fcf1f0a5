import { DEBIAN_IMAGES } from '../images/debian/debian-image-catalog.ts';
import { MICROVM_SUITES, microVmImageName } from '../images/microvm/build-microvm-image.ts';
import type { DebianSuite } from '../kernels/debian-suite.ts';

/**
 * The lab's images: micro-VMs (a Debian kernel + busybox, seconds to boot) run
 * the data-path scenarios; whole Debian systems run the guides' procedure.
 * The default run is every micro-VM plus Debian 12; Debian 11 and 13 are there
 * to be named (they take minutes each under TCG).
 */
export type LabImage =
  | { kind: 'micro'; name: string; suite: DebianSuite; byDefault: true }
  | { kind: 'full-os'; name: string; byDefault: boolean };

export const IMAGES: readonly LabImage[] = [
  ...MICROVM_SUITES.map((suite): LabImage => ({ kind: 'micro', name: microVmImageName(suite), suite, byDefault: true })),
  ...DEBIAN_IMAGES.map((d): LabImage => ({ kind: 'full-os', name: d.name, byDefault: d.name === 'debian-12' })),
];


export function defaultImages(): LabImage[] {
  return IMAGES.filter((i) => i.byDefault);
}
