import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hookNetKconfig, hookNetMakefile, intreeToaFiles } from '../../../harness/patched-kernel/intree-patch.ts';
import { toaOptionKindOf } from '../../../harness/patched-kernel/toa-header.ts';

/** Excerpts of Linux 6.1's net/Kconfig and net/Makefile around the hook points. */
const NET_KCONFIG = 'if INET\nsource "net/ipv4/Kconfig"\nsource "net/ipv6/Kconfig"\nsource "net/netlabel/Kconfig"\nendif # if INET\n';
const NET_MAKEFILE = 'obj-y\t\t\t\t:= devres.o socket.o core/\nobj-$(CONFIG_INET)\t\t+= ipv4/\nobj-$(CONFIG_VSOCKETS)\t+= vmw_vsock/\n';

describe("toa-lab's in-tree TOA (native/toa-intree)", () => {
  it('hooks net/Kconfig inside `if INET`, right after IPv6, once', () => {
    const edit = hookNetKconfig(NET_KCONFIG);
    expect(edit.content).toBe(NET_KCONFIG.replace('source "net/ipv6/Kconfig"\n', 'source "net/ipv6/Kconfig"\nsource "net/toa/Kconfig"\n'));
    expect(hookNetKconfig(edit.content).changed).toBe(false);
    expect(() => hookNetKconfig('menu "Networking"\n')).toThrow(/source "net\/ipv6\/Kconfig"/);
  });

  it('hooks net/Makefile with obj-$(CONFIG_TOA) += toa/, once', () => {
    const edit = hookNetMakefile(NET_MAKEFILE);
    expect(edit.content.endsWith('obj-$(CONFIG_TOA)\t\t+= toa/\n')).toBe(true);
    expect(hookNetMakefile(edit.content).changed).toBe(false);
    expect(() => hookNetMakefile('obj-m += toa.o\n')).toThrow(/CONFIG_INET/);
  });

  it('adds Kconfig, Makefile, toa.h (kind 200, so the guide\'s edit has work) and toa.c copied from native/toa', async () => {
    const files = await intreeToaFiles();
    expect([...files.keys()].sort()).toEqual(['net/toa/Kconfig', 'net/toa/Makefile', 'net/toa/toa.c', 'net/toa/toa.h', 'net/toa/toa_intree.c']);
    expect(files.get('net/toa/Kconfig')).toMatch(/^config TOA\n\ttristate .*\n(?:\t#.*\n)*\tdepends on INET && NETFILTER && KPROBES && KRETPROBES$/m);
    expect(files.get('net/toa/Makefile')).toMatch(/^obj-\$\(CONFIG_TOA\) \+= toa\.o$/m);
    expect(toaOptionKindOf(files.get('net/toa/toa.h')!)).toBe(200);
    expect(files.get('net/toa/toa.c')).toBe(readFileSync(join(import.meta.dirname, '../../../native/toa/toa.c'), 'utf8'));
    expect(files.get('net/toa/toa_intree.c')).toContain('#include "toa.c"');
  });
});
