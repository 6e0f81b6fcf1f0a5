import { join } from 'node:path';
import { runStep, StepFailure, type StepResult } from '../core/step.ts';
import { succeeded } from '../exec/command-result.ts';
import { BackendServer } from '../guest/backend-server.ts';
import { ProxyProtocolBackends } from '../guest/proxy-backends.ts';
import type { FullOsMachine } from '../machine/machine.ts';
import { shellQuote } from '../remote/guest-shell.ts';
import { repoRoot } from '../repo-root.ts';
import { MachineDataPathLab, type DataPathModule } from './machine-data-path-lab.ts';

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
  /** The kinds the module accepts (harness/toa/module-spec.ts); default toaKind. */
  moduleKinds?: DataPathModule['moduleKinds'];
  /** What the balancer sends; default the standard TOA under toaKind. */
  balancerProfile?: DataPathModule['balancerProfile'];
}

const BACKEND_PORT = 80;
const BACKEND_BUILD_DIR = '/root/toa-backend';

/**
 * Builds and starts toa-backend in the guest and finds the installed toa.ko;
 * reported as a step (a compiler error or a taken port is its evidence).
 */
export async function prepareFullOsDataPath(
  machine: FullOsMachine,
  options: FullOsDataPathOptions = {},
): Promise<{ step: StepResult; lab?: MachineDataPathLab }> {
  let prepared: MachineDataPathLab | undefined;
  const step = await runStep(
    `data path: toa-backend built in the guest, on :${BACKEND_PORT}; the installed toa.ko`,
    async (recorder) => {
      const shell = machine.guest;
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
      // Found now, started by the first proxy-protocol scenario: unselected, they cost one `command -v`.
      const proxyBackends = await ProxyProtocolBackends.detect(shell, machine.wire.balancerAddress);
      prepared = new MachineDataPathLab(
        machine,
        backend,
        {
          toaModulePath: module.stdout.trim(),
          toaKind: options.toaKind ?? 254,
          ownModule: options.ownModule ?? true,
          ...(options.moduleKinds && { moduleKinds: options.moduleKinds }),
          ...(options.balancerProfile && { balancerProfile: options.balancerProfile }),
        },
        machine.guest,
        proxyBackends ? { proxyBackends } : {},
      );
      const proxy = proxyBackends ? `; PROXY protocol backends available: ${proxyBackends.available.join(', ')}` : '; no nginx or haproxy for PROXY protocol';
      return `toa-backend on :${BACKEND_PORT}; toa.ko at ${prepared.toaModulePath}${proxy}`;
    },
    'data-path-setup',
  );
  return prepared ? { step, lab: prepared } : { step };
}
