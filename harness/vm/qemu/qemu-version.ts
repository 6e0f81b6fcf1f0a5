import { runHostCommand } from '../../exec/run-host-command.ts';

let cached: Promise<string> | undefined;

/**
 * `qemu-system-x86_64 --version`'s first line, e.g. "QEMU emulator version 7.2.19
 * (Debian 1:7.2+dfsg-7+deb12u18)": part of a saved guest's cache key, since a
 * migration stream is only promised to load into the QEMU that wrote it.
 */
export function qemuVersion(): Promise<string> {
  cached ??= runHostCommand('qemu-system-x86_64', ['--version']).then((r) => r.stdout.split('\n')[0]!.trim());
  return cached;
}
