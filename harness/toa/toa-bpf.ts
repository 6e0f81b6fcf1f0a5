import type { CommandResult } from '../exec/command-result.ts';
import { atLeast, parseKernelRelease, type KernelVersion } from '../kernels/kernel-version.ts';
import type { GuestToaBpf } from './toa-bpf-overlay.ts';
import { shellQuote, type GuestShell } from '../remote/guest-shell.ts';

/**
 * eBPF TOA in a guest: the programs of a BPF object attached to the cgroup the
 * backend runs in, by our static loader (native/toa-bpf/toa-bpf-load.c).
 *
 * - The cgroup is a child of the cgroup2 root, not the root itself: the
 *   programs then serve the backend and nothing else in the guest, as they
 *   would on a server with other services.
 * - The guest agent moves itself into it, so every process it starts later
 *   (every toa-backend, whatever port a scenario gives it) is in it when it
 *   creates its listener — a socket belongs to the cgroup of the process that
 *   created it, and accepted sockets to their listener's.
 */
export const TOA_BPF_CGROUP = '/sys/fs/cgroup/toa-lab-backend';

/** The kernel that first gave sockops programs the TCP header (skb_data) and the PARSE_HDR_OPT callback. */
export const TOA_BPF_MIN_KERNEL = { major: 5, minor: 10 } as const;

/**
 * Pure: why eBPF TOA cannot run on this kernel (`uname -r`), or undefined
 * when it can. A release that does not parse is refused with its text.
 */
export function toaBpfUnsupportedReason(kernelRelease: string): string | undefined {
  const { major, minor } = TOA_BPF_MIN_KERNEL;
  let version: KernelVersion;
  try {
    version = parseKernelRelease(kernelRelease);
  } catch {
    return `eBPF TOA needs Linux ≥ ${major}.${minor}; cannot read a version from '${kernelRelease}'`;
  }
  return atLeast(version, major, minor)
    ? undefined
    : `not applicable to eBPF TOA on Linux ${version.major}.${version.minor}: sockops programs read TCP header options from ${major}.${minor} on`;
}

/** One program on the cgroup, as `toa-bpf-load show` lists it. */
export interface AttachedProgram {
  hook: string;
  id: number;
  name: string;
}

/** Pure: `attached <hook> id <n> name <name>` lines. */
export function parseAttachedPrograms(text: string): AttachedProgram[] {
  return [...text.matchAll(/^attached (\S+) id (\d+) name (\S*)$/gm)].map((m) => ({ hook: m[1]!, id: Number(m[2]), name: m[3]! }));
}

/** What TOA needs on the cgroup: the sockops reader and at least one getpeername rewriter. */
export function attachmentComplete(programs: readonly AttachedProgram[]): boolean {
  return programs.some((p) => p.hook === 'sockops') && programs.some((p) => p.hook.startsWith('getpeername'));
}

/**
 * Mounts cgroup2 if the guest has not (the micro-VM's init mounts only proc,
 * sys, dev and tmp), makes the backend's cgroup, moves the guest agent into
 * it, then attaches the object's programs there (replacing any before).
 */
export function attachToaBpf(guest: GuestShell, bpf: GuestToaBpf, cgroup = TOA_BPF_CGROUP): Promise<CommandResult> {
  return guest.run(
    [
      `grep -q ' /sys/fs/cgroup cgroup2 ' /proc/mounts || mount -t cgroup2 cgroup2 /sys/fs/cgroup`,
      `mkdir -p ${shellQuote(cgroup)}`,
      // busybox here has no pgrep: the agent is found by its command line.
      `for cmdline in /proc/[0-9]*/cmdline; do grep -q /bin/toa-agent "$cmdline" 2>/dev/null && pid=\${cmdline#/proc/} && echo "\${pid%/cmdline}" > ${shellQuote(cgroup)}/cgroup.procs; done; true`,
      `${shellQuote(bpf.loader)} attach ${shellQuote(bpf.object)} ${shellQuote(cgroup)}`,
    ].join(' && '),
    { timeoutMs: 60_000 },
  );
}

export function detachToaBpf(guest: GuestShell, bpf: GuestToaBpf, cgroup = TOA_BPF_CGROUP): Promise<CommandResult> {
  return guest.run(`${shellQuote(bpf.loader)} detach ${shellQuote(cgroup)}`);
}

export async function attachedToaPrograms(guest: GuestShell, bpf: GuestToaBpf, cgroup = TOA_BPF_CGROUP): Promise<AttachedProgram[]> {
  const result = await guest.run(`[ -d ${shellQuote(cgroup)} ] && ${shellQuote(bpf.loader)} show ${shellQuote(cgroup)}`);
  return parseAttachedPrograms(result.stdout);
}
