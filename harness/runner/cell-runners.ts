import { SCENARIOS } from '../../scenarios/index.ts';
import type { MachineTarget } from '../machine/machine.ts';
import { DEFAULT_BALANCER_PROFILE, type BalancerProfile } from '../net/index.ts';
import type { ToaModuleChoice } from '../toa/module-choice.ts';
import type { CellContext } from './cell.ts';
import { FULL_OS_SCENARIOS, runFullOsCell, type FullOsScenarioId } from './full-os-cell.ts';
import type { LabImage } from './lab-images.ts';
import { runMicroCell } from './micro-cell.ts';
import { runPatchedKernelCell } from './patched-kernel-cell.ts';

/**
 * How each kind of image becomes a cell: one runner per LabImage kind, picked
 * from this table by the image's typed kind — a new kind of image is one
 * runner and one line here, not another branch in the CLI.
 */
export interface CellSettings {
  module: ToaModuleChoice;
  toaKind: number;
  /** The kinds the module under test accepts (harness/toa/module-spec.ts). */
  moduleKinds: readonly number[];
  /** What the balancer sends (harness/net/balancer/balancer-profiles.ts); its kind is `toaKind`. */
  balancerProfile: BalancerProfile;
  vcpus: number;
  /** Full OSes: the registry name of the machine provider. */
  provider: string;
  /** Foreign images: the guide row to follow instead of the detected one. */
  profile?: string;
  keepOnFailure: boolean;
  /** Full OSes: boot (and reboot) to a working login, if not the provider's default. */
  bootTimeoutMs?: number;
}

type CellRunner<Kind extends LabImage['kind']> = (ctx: CellContext, image: Extract<LabImage, { kind: Kind }>, ids: readonly string[], settings: CellSettings) => Promise<void>;

const dataPath = (ids: readonly string[]) => SCENARIOS.filter((s) => ids.includes(s.id));

export const CELL_RUNNERS: { [Kind in LabImage['kind']]: CellRunner<Kind> } = {
  micro: (ctx, image, ids, settings) =>
    runMicroCell(ctx, {
      suite: image.suite,
      ...(image.kernel && { kernel: image.kernel }),
      ...(image.kernelPackages && { kernelPackages: image.kernelPackages }),
      scenarios: dataPath(ids),
      module: settings.module,
      toaKind: settings.toaKind,
      moduleKinds: settings.moduleKinds,
      balancerProfile: settings.balancerProfile,
      keepOnFailure: settings.keepOnFailure,
      vcpus: settings.vcpus,
    }),
  'full-os': (ctx, image, ids, settings) => {
    // The guide builds from source in the guest; a prebuilt .ko is a micro-VM matter (its kernel is known).
    if (settings.module.origin === 'prebuilt') ctx.note(`${image.name}: --toa-ko applies to micro-VMs; the guide's procedure here builds native/toa`);
    // Not yet carried to whole OSes (loader and object pushed over SSH, the backend's systemd cgroup).
    if (settings.module.origin === 'bpf') ctx.note(`${image.name}: --toa-bpf applies to micro-VMs; the guide's procedure here builds native/toa`);
    return runFullOsCell(ctx, {
      target: fullOsTarget(image),
      ...(settings.profile && { profile: settings.profile }),
      ...(image.repositories && { repositories: image.repositories }),
      scenarios: ids.filter((id): id is FullOsScenarioId => FULL_OS_SCENARIOS.some((s) => s.id === id)),
      dataPath: dataPath(ids),
      provider: settings.provider,
      toaKind: settings.toaKind,
      moduleKinds: settings.moduleKinds,
      balancerProfile: settings.balancerProfile,
      vcpus: settings.vcpus,
      ...(settings.bootTimeoutMs && { bootTimeoutMs: settings.bootTimeoutMs }),
      ...(settings.module.origin === 'source' && { toaSource: settings.module.location }),
    });
  },
  'patched-kernel': (ctx, _image, ids, settings) => {
    if (settings.module.origin !== 'toa-lab') ctx.note(`${ctx.cell}: the patched-kernel path builds toa-lab's module in-tree; the vendor module is not used here`);
    if (settings.balancerProfile.name !== DEFAULT_BALANCER_PROFILE.name || settings.moduleKinds.join() !== String(DEFAULT_BALANCER_PROFILE.kind)) {
      ctx.note(`${ctx.cell}: the patched-kernel path sends ${DEFAULT_BALANCER_PROFILE.name} to its in-tree module (kind 254 from toa.h); --balancer, --toa-kind and --module-kinds are not used here`);
    }
    return runPatchedKernelCell(ctx, { dataPath: dataPath(ids), procedure: ids.includes('guide-procedure') });
  },
};

export function runCell(ctx: CellContext, image: LabImage, ids: readonly string[], settings: CellSettings): Promise<void> {
  return (CELL_RUNNERS[image.kind] as CellRunner<LabImage['kind']>)(ctx, image, ids, settings);
}

export function fullOsTarget(image: Extract<LabImage, { kind: 'full-os' }>): MachineTarget {
  return image.disk ?? image.box ?? { kind: 'lab-image', image: image.name };
}
