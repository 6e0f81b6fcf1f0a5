import { OwnedProcess } from '../../lifecycle/owned-process.ts';

export type { ProcessExit as QemuExit } from '../../lifecycle/owned-process.ts';
export type QemuProcess = OwnedProcess;

const QEMU_BINARY = 'qemu-system-x86_64';

/** One QEMU process, owned by the run (killed with the harness, reaped after a crash). */
export const QemuProcess = {
  start(args: readonly string[], stderrLog: string): QemuProcess {
    return OwnedProcess.start(QEMU_BINARY, args, stderrLog);
  },
};
