import { KernelNotServedError, resolveKernel } from '../kernels/archive-kernels.ts';
import { kernelCellName, KernelSpecError, parseKernelSpec, type KernelSpec } from '../kernels/kernel-spec.ts';
import { SuiteListsError } from '../kernels/suite-lists.ts';
import { inspectKernelPackages, KernelPackagesError, userKernelCellName, type UserKernelPackages } from '../kernels/kernel-packages.ts';
import { PACKAGE_FORMATS, type KernelPackageFormat } from '../kernels/package-formats.ts';
import { HOST_SUITE } from '../images/microvm/guest-kernel.ts';
import type { LabImage } from './lab-images.ts';
import { UsageError } from './run-scenarios.ts';

/**
 * `--kernel SPEC` → one micro-VM cell per kernel, named by its spec so two
 * cells never collide (harness/kernels/kernel-spec.ts). Each spec is checked
 * against the archive's package lists before anything boots: a kernel the
 * archive does not serve is a usage error (exit 2) naming what it does serve,
 * never a quiet substitution of another kernel.
 */
export async function kernelCells(texts: readonly string[], log: (line: string) => void = () => {}): Promise<LabImage[]> {
  const cells = new Map<string, LabImage>();
  for (const text of texts) {
    let spec: KernelSpec;
    try {
      spec = parseKernelSpec(text);
      const kernel = await resolveKernel(spec, log);
      for (const note of kernel.notes) log(note);
      log(`--kernel ${text}: ${kernel.image.name} ${kernel.image.version}`);
    } catch (error) {
      if (error instanceof KernelSpecError || error instanceof KernelNotServedError || error instanceof SuiteListsError) {
        throw new UsageError(error.message);
      }
      throw error;
    }
    cells.set(kernelCellName(spec), kernelCell(spec, false));
  }
  return [...cells.values()];
}

/** The files of a user's kernel, per package format, as the flags gave them. */
export type UserKernelFiles = Partial<Record<KernelPackageFormat, { kernel: readonly string[]; headers: readonly string[] }>>;

/**
 * `--kernel-deb FILE... --headers-deb FILE...` and `--kernel-rpm FILE...
 * --devel-rpm FILE...` → one micro-VM cell per user kernel, read and checked
 * before anything boots (a missing file, a package without a kernel, headers
 * of another build: exit 2).
 */
export async function userKernelCells(files: UserKernelFiles, log: (line: string) => void = () => {}): Promise<LabImage[]> {
  const cells: LabImage[] = [];
  for (const [format, given] of Object.entries(files) as Array<[KernelPackageFormat, { kernel: readonly string[]; headers: readonly string[] }]>) {
    if (given.kernel.length === 0 && given.headers.length === 0) continue;
    let packages: UserKernelPackages;
    try {
      packages = await inspectKernelPackages(given.kernel, given.headers, format);
    } catch (error) {
      if (error instanceof KernelPackagesError) throw new UsageError(error.message);
      throw error;
    }
    log(
      `${PACKAGE_FORMATS[format].flags.kernel}: ${packages.kernel.map((k) => `${k.name} ${k.version}`).join(', ')} (kernel ${packages.release}` +
        `${packages.compiler ? `, built with ${packages.compiler}` : ''})`,
    );
    // `suite` is only the image's label here: the build suite is chosen later from the headers' compiler (build-suite.ts).
    cells.push({ kind: 'micro', name: userKernelCellName(packages.release, format), suite: HOST_SUITE, kernelPackages: packages, byDefault: false });
  }
  return cells;
}

export function kernelCell(spec: KernelSpec, byDefault: boolean): LabImage {
  return { kind: 'micro', name: kernelCellName(spec), suite: spec.suite, kernel: spec, byDefault };
}
