import { DEBIAN_IMAGES } from '../images/debian/debian-image-catalog.ts';
import { MICROVM_SUITES, microVmImageName } from '../images/microvm/build-microvm-image.ts';
import type { DebianSuite } from '../kernels/debian-suite.ts';
import { DEFAULT_KERNELS } from '../kernels/default-kernels.ts';
import type { KernelSpec } from '../kernels/kernel-spec.ts';
import type { UserKernelPackages } from '../kernels/kernel-packages.ts';
import type { DiskImageTarget, VagrantBoxTarget } from '../machine/machine.ts';
import type { RepositoryMirror } from '../os/index.ts';
import { kernelCell } from './kernel-cells.ts';

/**
 * The lab's images: micro-VMs (a Debian kernel + busybox, seconds to boot) run
 * the data-path scenarios; whole Debian systems run the guides' procedure.
 * The default run is every micro-VM — the three suites' kernels and the
 * default newer kernels (harness/kernels/default-kernels.ts: 7.2, 7.3, a cloud
 * flavour) — plus Debian 12; Debian 11 and 13 are there to be named (they take
 * minutes each under TCG), and any other kernel with --kernel.
 */
export type LabImage =
  /**
   * `kernel` set: any archive kernel by spec; `kernelPackages`: a user's own kernel .debs;
   * neither: the suite's micro-VM kernel as always.
   */
  | { kind: 'micro'; name: string; suite: DebianSuite; kernel?: KernelSpec; kernelPackages?: UserKernelPackages; byDefault: boolean }
  /**
   * A whole OS: one of the lab's images, a user's disk booted through its own boot loader
   * (`disk`), or a user's Vagrant box (`box`). `repositories`: a guide row's mirror or
   * archive (its data, or the user's config), pointed at before the toolchain.
   */
  | { kind: 'full-os'; name: string; byDefault: boolean; disk?: DiskImageTarget; box?: VagrantBoxTarget; repositories?: RepositoryMirror }
  /** The Huawei guide's 2.6.32 path (a kernel rebuilt with TOA in-tree): never in the default set, its kernel takes long to build. */
  | { kind: 'patched-kernel'; name: string; byDefault: false };

/** The patched-kernel row: the guide's CentOS 6.8 procedure on a CentOS 6 disk layout (GRUB legacy). */
export const PATCHED_KERNEL_IMAGE = 'centos-6.8-patched-kernel';

export const IMAGES: readonly LabImage[] = [
  ...MICROVM_SUITES.map((suite): LabImage => ({ kind: 'micro', name: microVmImageName(suite), suite, byDefault: true })),
  ...DEFAULT_KERNELS.map((kernel) => kernelCell(kernel, true)),
  ...DEBIAN_IMAGES.map((d): LabImage => ({ kind: 'full-os', name: d.name, byDefault: d.name === 'debian-12' })),
  { kind: 'patched-kernel', name: PATCHED_KERNEL_IMAGE, byDefault: false },
];


export function defaultImages(): LabImage[] {
  return IMAGES.filter((i) => i.byDefault);
}
