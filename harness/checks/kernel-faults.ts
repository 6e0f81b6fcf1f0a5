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
