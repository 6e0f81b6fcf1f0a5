import { readdirSync, readFileSync } from 'node:fs';

/** A process that has exited but not been reaped yet counts as gone. */
export function isZombie(pid: number): boolean {
  try {
    return / Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Live QEMU processes whose command line names `dir` (a run's session folder). */
export function qemuProcessesUnder(dir: string): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
        return cmd.includes('qemu-system') && cmd.includes(dir) && !isZombie(Number(p));
      } catch {
        return false;
      }
    })
    .map(Number);
}
