/**
 * How many vCPUs each guest gets when several run at once: the host's cores
 * shared out, at most two each (the lab's default), at least one.
 *
 * Why not always two: under TCG every vCPU is a host thread, and a guest
 * whose second vCPU is descheduled by the host spins in its spinlocks
 * waiting for it (lock-holder preemption). Measured here, three micro-VMs at
 * once on 2 cores: 19 s and 32 CPU-seconds with one vCPU each, 23.5 s and 41
 * CPU-seconds with two (BENCHMARKS.md). A guest alone keeps two, so SMP
 * races in a module are still exercised in every single-image run.
 */
export const MAX_GUEST_CPUS = 2;

export function vcpusPerGuest(hostCores: number, guestsAtOnce: number): number {
  const share = Math.floor(hostCores / Math.max(1, guestsAtOnce));
  return Math.max(1, Math.min(MAX_GUEST_CPUS, share));
}
