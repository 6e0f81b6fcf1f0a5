/**
 * How TCG runs a guest's vCPUs: one host thread each ("multi", QEMU's default
 * for x86 on x86) or all of them in turn on one host thread ("single").
 *
 * The lab uses "single". With one thread per vCPU (QEMU 7.2, Debian 12), a
 * guest livelocks when the kernel patches code that another vCPU is running
 * through: `rmmod toa` under traffic drops the last LOCAL_IN netfilter hook,
 * the static key in ip_local_deliver() flips, and text_poke_bp() puts an int3
 * there. Both vCPUs then spin on that int3 for good (soft lockups at
 * ip_local_deliver+0x5c, NMI backtraces in asm_exc_int3; most likely the
 * int3 handler finds no int3 left in memory and re-runs the instruction,
 * while the vCPU still executes a stale translation that holds it). Measured here: 10 rmmod/insmod cycles under 60
 * concurrent downloads hang a Debian 12 guest within 2 rounds with "multi";
 * 30 rounds (300 cycles) with "single" never did (BENCHMARKS.md). A real CPU
 * cannot do this, so it is the emulator's fault, and a lab that hangs on it
 * would blame the module. The guest still has its vCPUs (SMP kernels, IPIs,
 * preemption between CPUs), interleaved rather than simultaneous; the cost
 * (×1.14–1.17 wall time, both vCPUs on one core) is in BENCHMARKS.md too.
 *
 * TOA_LAB_TCG_THREAD=multi brings back QEMU's default (to measure it, or on a
 * QEMU without the fault). The vagrant provider cannot choose: libvirt's
 * domain XML has no TCG thread setting, so its guests run QEMU's default.
 */
export type TcgThreading = 'single' | 'multi';

export function tcgThreading(env: NodeJS.ProcessEnv = process.env): TcgThreading {
  const value = env['TOA_LAB_TCG_THREAD'];
  if (value === undefined || value === '' || value === 'single') return 'single';
  if (value === 'multi') return 'multi';
  throw new Error(`TOA_LAB_TCG_THREAD=${value}: expected single or multi`);
}
