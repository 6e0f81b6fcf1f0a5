import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from '../repo-root.ts';
import { quoteLine, UnexpectedFileError, unchanged, type FileEdit } from './file-edit.ts';

/**
 * toa-lab's TOA in kernel-tree form (native/toa-intree), for trees that do not
 * carry net/toa already (the LVS 2.6.32 tarball does; Debian's linux-source-6.1
 * does not): net/toa/{Kconfig,Makefile,toa.h,toa_intree.c} from native/toa-intree,
 * net/toa/toa.c copied from native/toa/toa.c at apply time (never duplicated in
 * the repo), and two hooks into net/.
 */
export const INTREE_FILES = ['Kconfig', 'Makefile', 'toa.h', 'toa_intree.c'] as const;

const KCONFIG_HOOK = 'source "net/toa/Kconfig"';
const MAKEFILE_HOOK = 'obj-$(CONFIG_TOA)		+= toa/';
/** TOA depends on INET: sourced right after IPv6, inside net/Kconfig's `if INET`. */
const KCONFIG_ANCHOR = /^source "net\/ipv6\/Kconfig"$/m;

export function hookNetKconfig(kconfig: string): FileEdit {
  if (kconfig.split('\n').includes(KCONFIG_HOOK)) return unchanged(kconfig, 'net/Kconfig already sources net/toa/Kconfig');
  const anchor = KCONFIG_ANCHOR.exec(kconfig);
  if (!anchor) throw new UnexpectedFileError('net/Kconfig', 'a `source "net/ipv6/Kconfig"` line', 'none');
  const at = anchor.index + anchor[0].length;
  return {
    content: `${kconfig.slice(0, at)}\n${KCONFIG_HOOK}${kconfig.slice(at)}`,
    changed: true,
    summary: `net/Kconfig: ${KCONFIG_HOOK} after ${quoteLine(anchor[0])}`,
  };
}

export function hookNetMakefile(makefile: string): FileEdit {
  if (/^obj-\$\(CONFIG_TOA\)\s*\+=\s*toa\/\s*$/m.test(makefile)) return unchanged(makefile, 'net/Makefile already builds toa/');
  if (!/^obj-\$\(CONFIG_INET\)\s*\+=/m.test(makefile)) {
    throw new UnexpectedFileError('net/Makefile', 'an `obj-$(CONFIG_INET) +=` line (the kernel net/Makefile)', 'none');
  }
  const base = makefile.endsWith('\n') ? makefile : `${makefile}\n`;
  return { content: `${base}${MAKEFILE_HOOK}\n`, changed: true, summary: `net/Makefile: appended ${MAKEFILE_HOOK.replace(/\t+/, ' ')}` };
}

/** Every file the in-tree form adds, path in the kernel tree → content. */
export async function intreeToaFiles(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const name of INTREE_FILES) {
    files.set(`net/toa/${name}`, await readFile(join(repoRoot(), 'native', 'toa-intree', name), 'utf8'));
  }
  files.set('net/toa/toa.c', await readFile(join(repoRoot(), 'native', 'toa', 'toa.c'), 'utf8'));
  return files;
}
