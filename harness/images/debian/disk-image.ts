import { rm } from 'node:fs/promises';
import { runHostCommand } from '../../exec/run-host-command.ts';

/**
 * Disk files without loop mounts (no privileges beyond file ownership, no
 * leftover mounts when a build dies):
 * - the root tree goes into a sparse raw file with `mkfs.ext4 -d`,
 * - which `qemu-img convert` turns into a compact qcow2 (only used blocks),
 * - and every run boots a copy-on-write overlay of it, so the base stays pristine.
 */

/** Virtual size of the guest's disk: room for builds, logs and a reboot's worth of journal. */
export const DISK_SIZE = '4G';

export async function rootTreeToQcow2(rootfs: string, qcow2: string, label: string): Promise<void> {
  const raw = `${qcow2}.raw`;
  try {
    await runHostCommand('truncate', ['-s', DISK_SIZE, raw]);
    // No partition table: the kernel mounts /dev/vda itself (root=/dev/vda).
    await runHostCommand('mkfs.ext4', ['-q', '-F', '-L', label, '-m', '0', '-E', 'root_owner=0:0', '-d', rootfs, raw], {
      timeoutMs: 600_000,
    });
    await runHostCommand('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, qcow2], { timeoutMs: 600_000 });
  } finally {
    await rm(raw, { force: true });
  }
}

/** A per-run overlay on `base`: writes land here, the cached base is never touched. */
export async function createOverlay(base: string, overlay: string, baseFormat = 'qcow2'): Promise<void> {
  await runHostCommand('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', base, '-F', baseFormat, overlay]);
}

/** Fails with qemu-img's own words when `path` is not a readable qcow2 image (a truncated or foreign file). */
export async function assertReadableQcow2(path: string): Promise<void> {
  const result = await runHostCommand('qemu-img', ['check', '-q', '-f', 'qcow2', path], { check: false });
  // 0: clean; 3: leaked clusters only (harmless, e.g. after a killed writer); 1, 2: unreadable or corrupt.
  if (result.exitCode !== 0 && result.exitCode !== 3) {
    const why = (result.stderr || result.stdout).trim().split('\n').slice(-2).join(' | ');
    throw new BrokenImageError(path, why || `qemu-img check exited ${result.exitCode}`);
  }
}

export class BrokenImageError extends Error {
  override readonly name = 'BrokenImageError';
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`disk image ${path} is not usable: ${reason}`);
  }
}
