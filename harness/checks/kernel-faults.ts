/**
 * Signs in a kernel log (serial console or dmesg) that the kernel was hurt:
 * the "no oops" checks pass only when none of these appear.
 */
const FAULT_PATTERNS: ReadonlyArray<[string, RegExp]> = [
  ['oops', /\bOops\b|BUG: unable to handle|general protection fault/],
  ['bug', /\bBUG:|kernel BUG at/],
  ['warning', /WARNING: CPU: \d+ PID: \d+|------------\[ cut here \]------------/],
  ['panic', /Kernel panic/],
  ['rcu-stall', /rcu: INFO: rcu_\w+ detected stalls/],
  ['lockdep', /possible circular locking dependency|inconsistent lock state/],
  ['kasan', /KASAN:|UBSAN:/],
  ['memory-leak', /kmemleak: \d+ new suspected memory leaks/],
];

export interface KernelFault {
  kind: string;
  line: string;
}

export function findKernelFaults(log: string): KernelFault[] {
  const faults: KernelFault[] = [];
  for (const line of log.split('\n')) {
    for (const [kind, pattern] of FAULT_PATTERNS) {
      if (pattern.test(line)) {
        faults.push({ kind, line: line.trim() });
        break;
      }
    }
  }
  return faults;
}

/** A position in a guest's kernel logs: faults are looked for only after it. */
export interface KernelLogMark {
  consoleOffset: number;
}

interface KernelLogSources {
  guest: { run(command: string, options?: { timeoutMs?: number }): Promise<{ stdout: string }>; check(command: string): Promise<unknown> };
  console: { refresh(): Promise<string> };
}

/** Marks the logs now; the ring buffer is cleared (the serial console log keeps the full record). */
export async function markKernelLog({ guest, console }: KernelLogSources): Promise<KernelLogMark> {
  await guest.check('dmesg -c >/dev/null');
  return { consoleOffset: (await console.refresh()).length };
}

/**
 * Kernel faults since `mark`: the serial console (loglevel 5 prints warnings
 * and worse) plus the ring buffer as it is now, each fault once. A guest that
 * no longer answers (hung, crashed) costs a short wait, and the console alone
 * tells.
 */
export async function kernelFaultsSince({ guest, console }: KernelLogSources, mark: KernelLogMark): Promise<KernelFault[]> {
  const consoleText = (await console.refresh()).slice(mark.consoleOffset);
  // A dead transport (the micro-VM's agent) throws rather than failing the command.
  const dmesg = await guest.run('dmesg', { timeoutMs: 15_000 }).catch(() => ({ stdout: '' }));
  const seen = new Set<string>();
  return [...findKernelFaults(consoleText), ...findKernelFaults(dmesg.stdout)].filter((f) => {
    const key = f.line.replace(/^\[\s*[\d.]+\]\s*/, '');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
