import type { DataPathLab, KernelLogMark } from './data-path-lab.ts';

/**
 * After a scenario threw: is the guest still there? A guest that hung or
 * crashed makes every later command fail with a transport error ("Not
 * connected", an agent timeout) that says nothing; the serial console says
 * what happened (soft lockup, oops, panic). Returns null when the guest
 * answers, else one line naming what the console shows.
 */
export async function guestGone(lab: DataPathLab, since: KernelLogMark): Promise<string | null> {
  // SSH returns a failed result when the connection is gone; the micro-VM's agent throws.
  const probe = await lab.guest.run('true', { timeoutMs: 15_000 }).catch((error: Error) => ({ exitCode: null, timedOut: false, stderr: error.message }));
  if (probe.exitCode === 0) return null;
  const why = probe.timedOut ? 'no answer within 15 s' : probe.stderr.trim().split('\n').at(-1) || `exit ${probe.exitCode}`;
  const faults = await lab.kernelFaultsSince(since);
  const console = faults.length
    ? `its console shows ${faults[0]!.line.replace(/^\[\s*[\d.]+\]\s*/, '')}${faults.length > 1 ? ` (and ${faults.length - 1} more fault lines)` : ''}`
    : 'its console shows no kernel fault';
  return `the guest no longer answers (${why}); ${console}`;
}
