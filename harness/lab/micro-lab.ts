import { BackendServer } from '../guest/backend-server.ts';
import { ensureMicroVmImage, type MicroVmImage } from '../images/microvm/build-microvm-image.ts';
import type { RunSession } from '../lifecycle/run-session.ts';
import type { DebianSuite } from '../kernels/debian-suite.ts';
import type { KernelSpec } from '../kernels/kernel-spec.ts';
import type { UserKernelPackages } from '../kernels/kernel-packages.ts';
import { MicroVmMachine } from '../machine/micro-vm-machine.ts';
import type { MicroVm } from '../vm/micro-vm.ts';
import type { BalancerProfile } from '../net/index.ts';
import { withToaBpf } from '../toa/toa-bpf-overlay.ts';
import { attachToaBpf, toaBpfUnsupportedReason } from '../toa/toa-bpf.ts';
import { MachineDataPathLab } from './machine-data-path-lab.ts';

/**
 * The data-path lab on a micro-VM (real Debian kernel, our toa.ko, toa-backend
 * on :80), from which scenarios start FULLNAT balancers with whatever TOA
 * policy they test. Everything a scenario sees is MachineDataPathLab's; this
 * only chooses the image (suite, module) and starts the backend baked into it.
 */
export interface MicroLabOptions {
  suite?: DebianSuite;
  /** Any kernel the archive serves (`--kernel`); wins over `suite`. */
  kernel?: KernelSpec;
  /** A user's own kernel packages (--kernel-deb); wins over both. */
  kernelPackages?: UserKernelPackages;
  /** A vendor's toa.ko, built for this suite's kernel, instead of ours. */
  toaModule?: string;
  /**
   * eBPF TOA instead of toa.ko: toa-lab's own object (native/toa-bpf), or a user's
   * (`--toa-bpf OBJ`). The kernel must be ≥ 5.10 (toaBpfUnsupportedReason).
   */
  toaBpf?: { userObject?: string };
  /** The option kind the balancer sends (default 254). */
  toaKind?: number;
  /** The kinds the module under test accepts (default: toaKind); ours is loaded with them. */
  moduleKinds?: readonly number[];
  /** What the balancer sends (default: the standard TOA under toaKind). */
  balancerProfile?: BalancerProfile;
  /** vCPUs (default 2; fewer when several guests share the host: harness/runner/guest-cpus.ts). */
  cpus?: number;
  /**
   * 'snapshot': start from the image's saved guest when there is one (harness/vm/micro-vm-snapshot.ts);
   * default 'boot'. The guest is saved before toa.ko or toa-backend ever ran, so either way this
   * lab starts the backend on a guest that has served nothing.
   */
  start?: 'boot' | 'snapshot';
  log?: (line: string) => void;
}

export class MicroLab extends MachineDataPathLab {
  declare readonly machine: MicroVmMachine;

  static async start(session: RunSession, options: MicroLabOptions = {}): Promise<MicroLab> {
    const log = options.log ?? (() => {});
    const moduleImage = await ensureMicroVmImage({
      onProgress: log,
      ...(options.suite && { suite: options.suite }),
      ...(options.kernel && { kernel: options.kernel }),
      ...(options.kernelPackages && { kernelPackages: options.kernelPackages }),
      ...(options.toaModule && { toaModule: options.toaModule }),
    });
    const unsupported = options.toaBpf && toaBpfUnsupportedReason(moduleImage.kernelRelease);
    if (unsupported) throw new Error(unsupported);
    const bpf = options.toaBpf
      ? await withToaBpf(moduleImage, { onProgress: log, ...(options.toaBpf.userObject && { userObject: options.toaBpf.userObject }) })
      : undefined;
    const image = bpf?.image ?? moduleImage;
    const machine = await MicroVmMachine.start(session, {
      image,
      log,
      ...(options.cpus && { cpus: options.cpus }),
      ...(options.start && { start: options.start }),
    });
    // Before the backend starts: its listener must be created inside the attached cgroup.
    // A refusal is not fatal here: the first scenario's withToaModule shows the loader's words.
    if (bpf) await attachToaBpf(machine.guest, bpf.toaBpf);
    const backend = await BackendServer.start(machine.guest);
    return new MicroLab(machine, backend, {
      toaModulePath: image.guestToaModule,
      toaKind: options.balancerProfile?.kind ?? options.toaKind ?? 254,
      // eBPF TOA has none of toa.ko's parameters or /proc/net/toa_stats.
      ownModule: !options.toaModule && !bpf,
      ...(options.moduleKinds && { moduleKinds: options.moduleKinds }),
      ...(options.balancerProfile && { balancerProfile: options.balancerProfile }),
      ...(bpf && { toaBpf: bpf.toaBpf }),
    });
  }

  get image(): MicroVmImage {
    return this.machine.image;
  }

  get vm(): MicroVm {
    return this.machine.vm;
  }

  /** Stops the VM and detaches from the wire (also done by the session's close). */
  stop(): Promise<void> {
    return this.machine.stop();
  }
}
