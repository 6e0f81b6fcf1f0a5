import { KernelNotServedError, resolveKernel } from '../kernels/archive-kernels.ts';
import { kernelCellName, KernelSpecError, parseKernelSpec, type KernelSpec } from '../kernels/kernel-spec.ts';
import { SuiteListsError } from '../kernels/suite-lists.ts';
import { inspectKernelPackages, KernelPackagesError, userKernelCellName, type UserKernelPackages } from '../kernels/kernel-packages.ts';
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

/**
 * `--kernel-deb FILE... --headers-deb FILE...` → one micro-VM cell for a
 * user's own kernel, read and checked before anything boots (a missing file,
 * a package without a kernel, headers of another build: exit 2).
 */
export async function userKernelCells(kernelDebs: readonly string[], headersDebs: readonly string[], log: (line: string) => void = () => {}): Promise<LabImage[]> {
  if (kernelDebs.length === 0 && headersDebs.length === 0) return [];
  let packages: UserKernelPackages;
  try {
    packages = await inspectKernelPackages(kernelDebs, headersDebs);
  } catch (error) {
    if (error instanceof KernelPackagesError) throw new UsageError(error.message);
    throw error;
  }
  log(
    `--kernel-deb: ${packages.kernel.map((k) => `${k.name} ${k.version}`).join(', ')} (kernel ${packages.release}` +
      `${packages.compiler ? `, built with ${packages.compiler}` : ''})`,
  );
  // `suite` is only the image's label here: the build suite is chosen later from the headers' compiler (build-suite.ts).
  return [{ kind: 'micro', name: userKernelCellName(packages.release), suite: HOST_SUITE, kernelPackages: packages, byDefault: false }];
}

export function kernelCell(spec: KernelSpec, byDefault: boolean): LabImage {
  return { kind: 'micro', name: kernelCellName(spec), suite: spec.suite, kernel: spec, byDefault };
}
