import { describe, expect, it } from 'vitest';
import { firstErrors, recogniseFailures } from '../../../harness/toa/failure-signatures.ts';

// Lines as gcc, modpost, insmod and the kernel print them (Debian 6.1/6.12 builds).
const CASES: Array<[string, string]> = [
  ['gcc-retpoline', 'arch/x86/Makefile:313: *** You are building kernel with non-retpoline compiler, please update your compiler.. Stop.\nconfig_retpoline=y but not supported by the compiler, Compiler update recommended.'],
  ['headers-mismatch', "make: *** /lib/modules/3.10.0-957.el7.x86_64/build: No such file or directory.  Stop."],
  ['kallsyms-unexported', 'ERROR: modpost: "kallsyms_lookup_name" [/root/toa/toa.ko] undefined!'],
  ['proc-ops', "toa.c:40:64: error: passing argument 4 of 'proc_create' from incompatible pointer type [-Werror=incompatible-pointer-types]\nnote: expected 'const struct proc_ops *' but argument is of type 'const struct file_operations *'"],
  ['syn-recv-sock-arity', "toa.c:210:16: error: too few arguments to function 'tcp_v4_syn_recv_sock'"],
  ['syn-recv-sock-unexported', 'ERROR: modpost: "ipv4_specific" [/root/TCP_option_address/src/toa.ko] undefined!'],
  ['inet-getname-arity', "toa.c:120:9: error: too many arguments to function 'inet_getname'"],
  ['vermagic', "insmod: ERROR: could not insert module toa.ko: Invalid module format\n[   12.3] toa: version magic '5.10.0-32-amd64 SMP mod_unload modversions ' should be '6.1.0-56-amd64 SMP preempt mod_unload modversions '"],
];

describe('recogniseFailures', () => {
  it.each(CASES)('recognises %s', (id, output) => {
    const found = recogniseFailures(output).map((f) => f.signature.id);
    expect(found).toContain(id);
    for (const f of recogniseFailures(output)) expect(f.signature.remedy.length).toBeGreaterThan(10);
  });

  it('recognises nothing in a clean build', () => {
    expect(recogniseFailures('  CC [M]  /root/toa/toa.o\n  MODPOST /root/toa/Module.symvers\n  LD [M]  /root/toa/toa.ko')).toEqual([]);
  });

  it('picks the first errors for the report', () => {
    expect(firstErrors('CC toa.o\ntoa.c:1: error: a\nnote: x\ntoa.c:2: error: b\n')).toEqual(['toa.c:1: error: a', 'toa.c:2: error: b']);
  });
});

describe('recogniseFailures in a UTF-8 locale', () => {
  it('takes gcc’s typographic quotes too', () => {
    const output = "toa.c:33:33: error: implicit declaration of function ‘kallsyms_lookup_name’; did you mean ‘module_kallsyms_lookup_name’?";
    expect(recogniseFailures(output).map((f) => f.signature.id)).toEqual(['kallsyms-unexported']);
  });
});
