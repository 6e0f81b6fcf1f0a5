/**
 * (gcc quotes names with ‘…’ in a UTF-8 locale and '…' in C: the patterns take both.)
 *
 * Known ways a TOA module fails to build or load on a given kernel, recognised
 * in the compiler's, modpost's, insmod's or the kernel's own words, each with
 * the reason and the remedy the report prints beside the evidence.
 */
export interface FailureSignature {
  id: string;
  /** Matched against compiler/modpost output, insmod's stderr and dmesg. */
  pattern: RegExp;
  explanation: string;
  remedy: string;
}

export const FAILURE_SIGNATURES: readonly FailureSignature[] = [
  {
    id: 'gcc-retpoline',
    pattern: /CONFIG_RETPOLINE=y, but not supported by the compiler|config_retpoline=y but not supported by the compiler/i,
    explanation: 'the kernel was built with retpolines and this gcc cannot emit them (the Huawei guide\'s note)',
    remedy: 'upgrade gcc to the version the kernel was built with',
  },
  {
    id: 'headers-mismatch',
    pattern: /\/lib\/modules\/[^/\s]+\/build: No such file or directory|No rule to make target ['‘’]modules['‘’]|kernel headers for .* not found/,
    explanation: 'no kernel headers/devel package matching `uname -r` is installed',
    remedy: 'install kernel-devel-$(uname -r) / linux-headers-$(uname -r) of exactly the running kernel',
  },
  {
    id: 'kallsyms-unexported',
    pattern: /"kallsyms_lookup_name" \[[^\]]*\] undefined|implicit declaration of function ['‘’]kallsyms_lookup_name['‘’]/,
    explanation: 'kallsyms_lookup_name is no longer exported to modules (Linux ≥ 5.7)',
    remedy: 'use a module that needs no kallsyms_lookup_name (kprobes by symbol name, as toa-lab\'s own module does)',
  },
  {
    id: 'proc-ops',
    pattern: /expected ['‘’]const struct proc_ops \*['‘’]|passing argument 4 of ['‘’]proc_create['‘’] from incompatible pointer type/,
    explanation: 'proc_create takes a struct proc_ops since Linux 5.6, not file_operations',
    remedy: 'port the /proc entry to struct proc_ops (guard with LINUX_VERSION_CODE >= KERNEL_VERSION(5,6,0))',
  },
  {
    id: 'syn-recv-sock-arity',
    pattern:
      /too few arguments to function ['‘’]tcp_v[46]_syn_recv_sock['‘’]|incompatible pointer type[^\n]*syn_recv_sock|syn_recv_sock[^\n]*incompatible pointer type/,
    explanation: 'syn_recv_sock changed its arguments: 4.4 added two, and Debian\'s 6.1.190+ and 6.12.111+ kernels added a 7th (opt_child_init)',
    remedy: 'match the running kernel\'s syn_recv_sock prototype, or avoid replacing it (kretprobes)',
  },
  {
    id: 'syn-recv-sock-unexported',
    pattern: /"(tcp_v4_syn_recv_sock|ipv4_specific|tcp_v6_syn_recv_sock|ipv6_specific)" \[[^\]]*\] undefined/,
    explanation: 'tcp_v4_syn_recv_sock / ipv4_specific are no longer exported (Linux 6.12)',
    remedy: 'reach the function without the export (kprobes by symbol name)',
  },
  {
    id: 'inet-getname-arity',
    pattern: /too many arguments to function ['‘’]inet6?_getname['‘’]|inet6?_getname[^\n]*incompatible pointer type/,
    explanation: 'inet_getname lost its length argument in Linux 4.17',
    remedy: 'guard the getname hook with LINUX_VERSION_CODE >= KERNEL_VERSION(4,17,0)',
  },
  {
    id: 'vermagic',
    pattern: /version magic ['‘’][^'‘’]*['‘’] should be ['‘’][^'‘’]*['‘’]|disagrees about version of symbol|Invalid module format|Exec format error/,
    explanation: 'the module was built for another kernel (its vermagic does not match the running kernel)',
    remedy: 'build toa.ko against this exact kernel\'s headers; a .ko only moves between servers with the same kernel (the guide\'s note)',
  },
  {
    id: 'read-only-write',
    pattern: /BUG: unable to handle page fault[^\n]*\n[^\n]*#PF: error_code\(0x0003\) - permissions violation|write to read-only memory/i,
    explanation: 'the module wrote to read-only kernel data (e.g. inet_stream_ops.getname) — enforced on these kernels',
    remedy: 'hook with kprobes instead of swapping pointers in read-only structures',
  },
];

export interface RecognisedFailure {
  signature: FailureSignature;
  line: string;
}

export function recogniseFailures(output: string): RecognisedFailure[] {
  const found: RecognisedFailure[] = [];
  for (const signature of FAILURE_SIGNATURES) {
    const match = signature.pattern.exec(output);
    if (match) found.push({ signature, line: lineAround(output, match.index) });
  }
  return found;
}

/** The first compiler/modpost errors, for the report: what a developer reads first. */
export function firstErrors(output: string, count = 8): string[] {
  return output
    .split('\n')
    .filter((l) => /\berror\b|ERROR:|undefined!|No such file/.test(l))
    .slice(0, count);
}

function lineAround(text: string, index: number): string {
  const start = text.lastIndexOf('\n', index) + 1;
  const end = text.indexOf('\n', index);
  return text.slice(start, end < 0 ? undefined : end).trim();
}
