import type { CommandResult } from '../../exec/command-result.ts';
import { runHostCommand, type HostCommandOptions } from '../../exec/run-host-command.ts';

/**
 * `vagrant` as run by the harness: execa-shaped results (runHostCommand), no
 * colour, no update checks (no internet here), libvirt as the provider, and
 * the project folder given by VAGRANT_CWD rather than the process's cwd.
 * VAGRANT_HOME is left to the user (boxes are cached there across runs).
 */
export interface VagrantCliOptions {
  /** The folder with the Vagrantfile (and vagrant's `.vagrant/` state). */
  projectDir?: string;
  timeoutMs?: number;
  check?: boolean;
  onOutput?: (chunk: string) => void;
}

export function vagrantEnv(projectDir?: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...(projectDir && { VAGRANT_CWD: projectDir }),
    VAGRANT_CHECKPOINT_DISABLE: '1',
    VAGRANT_BOX_UPDATE_CHECK_DISABLE: '1',
    VAGRANT_DEFAULT_PROVIDER: 'libvirt',
    VAGRANT_NO_COLOR: '1',
  };
}

export function runVagrant(args: readonly string[], options: VagrantCliOptions = {}): Promise<CommandResult> {
  const hostOptions: HostCommandOptions = {
    env: vagrantEnv(options.projectDir),
    timeoutMs: options.timeoutMs ?? 600_000,
    check: options.check ?? true,
    ...(options.projectDir && { cwd: options.projectDir }),
    ...(options.onOutput && { onOutput: options.onOutput }),
  };
  return runHostCommand('vagrant', [...args, '--no-color'], hostOptions);
}

/** `virsh -c qemu:///system ...`, for what vagrant does not do (reaping, checks). */
export function runVirsh(args: readonly string[], options: { check?: boolean; timeoutMs?: number } = {}): Promise<CommandResult> {
  return runHostCommand('virsh', ['-q', '-c', LIBVIRT_URI, ...args], { check: options.check ?? true, timeoutMs: options.timeoutMs ?? 60_000 });
}

export const LIBVIRT_URI = 'qemu:///system';
