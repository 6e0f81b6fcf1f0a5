import { join } from 'node:path';
import { kernelFaultsSince, markKernelLog, type KernelFault, type KernelLogMark } from '../checks/kernel-faults.ts';
import { succeeded } from '../exec/command-result.ts';
import { BackendServer } from '../guest/backend-server.ts';
import type { FrameTap, FullNatBalancer, NetworkHost } from '../net/index.ts';
import { repoRoot } from '../repo-root.ts';
import { shellQuote } from '../remote/guest-shell.ts';
import type { SshGuestShell } from '../remote/ssh-guest-shell.ts';
import { runStep, StepFailure, type StepResult } from '../runner/step.ts';
import type { DataPathLab, LabBalancerOptions } from './data-path-lab.ts';
import type { FullOsMachine } from '../machine/machine.ts';
import { disableLabIpv6, enableLabIpv6 } from './guest-ipv6.ts';

/**
 * The data-path scenarios on a whole OS, after the guides' procedure: the
 * toa.ko they run is the one the guide built in the guest and installed for
 * autoload (found with `modinfo -n toa`), and the backend is toa-backend,
 * compiled in the guest with the guest's own gcc — the same checks as on a
 * micro-VM, now through the image's real userland, sshd and network stack.
 */
export interface FullOsDataPathOptions {
  /** The option kind the balancer sends (default 254). */
  toaKind?: number;
  /** The guide built toa-lab's native/toa (default), not a vendor's module: its parameters can be relied on. */
  ownModule?: boolean;
}

const BACKEND_PORT = 80;
const BACKEND_BUILD_DIR = '/root/toa-backend';

export class FullOsDataPathLab implements DataPathLab {
  private constructor(
    private readonly lab: FullOsMachine,
    readonly backend: BackendServer,
    readonly toaModulePath: string,
    readonly toaKind: number,
    readonly ownModule: boolean,
  ) {}

  /**
   * Builds and starts toa-backend in the guest and finds the installed toa.ko;
   * reported as a step (a compiler error or a taken port is its evidence).
   */
  static async prepare(lab: FullOsMachine, options: FullOsDataPathOptions = {}): Promise<{ step: StepResult; lab?: FullOsDataPathLab }> {
    let prepared: FullOsDataPathLab | undefined;
    const step = await runStep(`data path: toa-backend built in the guest, on :${BACKEND_PORT}; the installed toa.ko`, async (recorder) => {
      const shell: SshGuestShell = lab.guest;
      const push = recorder.record(await shell.putDirectory(join(repoRoot(), 'native', 'backend'), BACKEND_BUILD_DIR, (path) => !path.endsWith('/toa-backend')));
      if (!succeeded(push)) throw new StepFailure(`copying native/backend failed: ${push.stderr}`);
      const build = recorder.record(
        await shell.run(`make -C ${BACKEND_BUILD_DIR} && install -m 0755 ${BACKEND_BUILD_DIR}/toa-backend /usr/local/bin/toa-backend`, { timeoutMs: 180_000 }),
      );
      if (!succeeded(build)) throw new StepFailure(`toa-backend did not build: ${build.stderr.trim().split('\n').slice(0, 3).join(' | ')}`);
      const module = recorder.record(await shell.run('modinfo -n toa'));
      if (!succeeded(module)) throw new StepFailure(`no installed toa module (modinfo -n toa: ${module.stderr.trim()})`);
      // The guide's `python3 -m http.server 80` (if the procedure left it running) has given its verdict: toa-backend takes :80.
      recorder.record(await shell.run(`pkill -f ${shellQuote(`http.server ${BACKEND_PORT}`)}; sleep 0.5`));
      const backend = await BackendServer.start(shell, { port: BACKEND_PORT });
      prepared = new FullOsDataPathLab(lab, backend, module.stdout.trim(), options.toaKind ?? 254, options.ownModule ?? true);
      return `toa-backend on :${BACKEND_PORT}; toa.ko at ${prepared.toaModulePath}`;
    }, 'data-path-setup');
    return prepared ? { step, lab: prepared } : { step };
  }

  /** The machine's own name for it, found by MAC on a foreign image (eth1 on the lab's). */
  get labInterface(): string {
    return this.lab.labInterface;
  }

  get guest(): SshGuestShell {
    return this.lab.guest;
  }

  get host(): NetworkHost {
    return this.lab.wire.host;
  }

  get guestAddress(): string {
    return this.lab.wire.guestAddress;
  }

  get balancerAddress(): string {
    return this.lab.wire.balancerAddress;
  }

  startBalancer(options: LabBalancerOptions): Promise<FullNatBalancer> {
    return this.lab.wire.startBalancer(options, this.backend.port);
  }

  watchFrames(listener: FrameTap): () => void {
    return this.lab.wire.watchFrames(listener);
  }

  enableIpv6(): Promise<void> {
    return enableLabIpv6(this.guest, this.host, this.labInterface);
  }

  disableIpv6(): Promise<void> {
    return disableLabIpv6(this.guest, this.host, this.labInterface, false);
  }

  markKernelLog(): Promise<KernelLogMark> {
    return markKernelLog({ guest: this.guest, console: this.lab.console });
  }

  kernelFaultsSince(mark: KernelLogMark): Promise<KernelFault[]> {
    return kernelFaultsSince({ guest: this.guest, console: this.lab.console }, mark);
  }
}
