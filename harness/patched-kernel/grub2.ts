import { quoteLine, UnexpectedFileError, type FileEdit } from './file-edit.ts';
import type { BootKernelRequest } from './grub-legacy.ts';

/**
 * The GRUB 2 equivalent of guide step 7, on grub.cfg: the menu default becomes
 * the new kernel's entry and that entry's `linux` line gets the extra
 * arguments. Entries are named by their title path ("Advanced options for
 * Debian GNU/Linux>Debian GNU/Linux, with Linux 6.1.192-toa"), which GRUB 2
 * accepts as a default and which, unlike an index, survives new entries.
 *
 * grub-mkconfig regenerates grub.cfg from /etc/default/grub and /etc/grub.d;
 * on a machine that reruns it (update-grub after every kernel package), make
 * the same choice lasting with GRUB_DEFAULT="<title path>" and
 * GRUB_CMDLINE_LINUX (or `grubby --set-default --update-kernel --args` on EL).
 */
export interface Grub2Entry {
  /** Position in GRUB's numbering: "2" top level, "1>0" inside the second submenu. */
  index: string;
  /** Titles from the top: "Advanced options for X>X, with Linux 6.1.0". */
  titlePath: string;
  /** $menuentry_id_option id, if the entry has one. */
  id?: string;
  kernel: string;
  args: string[];
  initrd?: string;
  /** Line number of the `linux` line (0-based). */
  linuxLine: number;
}

const FILE = 'grub.cfg';

export function parseGrub2(cfg: string): { default: string | null; entries: Grub2Entry[] } {
  const lines = cfg.split('\n');
  const entries: Grub2Entry[] = [];
  const stack: Array<{ kind: 'submenu' | 'menuentry'; title: string; id?: string; childCount: number; index: string; entry?: Partial<Grub2Entry> }> = [];
  let topCount = 0;
  let defaultValue: string | null = null;
  for (const [lineNo, raw] of lines.entries()) {
    const line = raw.trim();
    const block = /^(menuentry|submenu)\s+(?:'([^']*)'|"([^"]*)")(.*)\{\s*$/.exec(line);
    if (block) {
      const parent = stack.at(-1);
      const position = parent ? parent.childCount++ : topCount++;
      const index = parent ? `${parent.index}>${position}` : String(position);
      const title = block[2] ?? block[3] ?? '';
      const id = /\$menuentry_id_option\s+'([^']+)'/.exec(block[4] ?? '')?.[1];
      const titlePath = [...stack.map((s) => s.title), title].join('>');
      stack.push({ kind: block[1] as 'submenu' | 'menuentry', title, ...(id && { id }), childCount: 0, index, entry: { index, titlePath, ...(id && { id }) } });
      continue;
    }
    if (line === '}') {
      const closed = stack.pop();
      if (closed?.kind === 'menuentry') {
        const entry = closed.entry!;
        if (entry.kernel === undefined) throw new UnexpectedFileError(FILE, `a linux line in menuentry '${closed.title}'`, 'none');
        entries.push(entry as Grub2Entry);
      }
      continue;
    }
    const current = stack.at(-1);
    const words = line.split(/\s+/);
    if (current?.kind === 'menuentry' && (words[0] === 'linux' || words[0] === 'linux16' || words[0] === 'linuxefi')) {
      current.entry!.kernel = words[1] ?? '';
      current.entry!.args = words.slice(2);
      current.entry!.linuxLine = lineNo;
    } else if (current?.kind === 'menuentry' && /^initrd(16|efi)?$/.test(words[0] ?? '')) {
      current.entry!.initrd = words[1] ?? '';
    } else if (stack.length === 0 && /^set\s+default=/.test(line)) {
      const value = line.replace(/^set\s+default=/, '').replace(/^["']|["']$/g, '');
      if (!value.includes('$')) defaultValue = value;
    }
  }
  if (stack.length) throw new UnexpectedFileError(FILE, 'balanced { } blocks', `"${stack.at(-1)!.title}" is not closed`);
  return { default: defaultValue, entries };
}

/** The entry GRUB 2 boots by default: by index path, title path or id. */
export function defaultGrub2Entry(cfg: string): Grub2Entry {
  const { default: value, entries } = parseGrub2(cfg);
  const wanted = value ?? '0';
  const entry = entries.find((e) => e.index === wanted || e.titlePath === wanted || e.id === wanted);
  if (!entry) throw new UnexpectedFileError(FILE, `an entry matching default=${wanted}`, entries.map((e) => e.titlePath).join(', ') || 'no entries');
  return entry;
}

export function bootKernelByDefaultGrub2(cfg: string, request: BootKernelRequest): FileEdit {
  const { entries } = parseGrub2(cfg);
  const wanted = `vmlinuz-${request.release}`;
  // Recovery entries boot the same kernel with "single": the ordinary one is meant.
  const matches = entries.filter((e) => e.kernel.split('/').at(-1) === wanted && !e.args.includes('single') && !/recovery mode/.test(e.titlePath));
  const target = pickTarget(matches, request.release, entries);
  const lines = cfg.split('\n');
  const notes: string[] = [];
  // Every entry booting the kernel gets the arguments (the guide: "the line containing
  // vmlinuz-...-toa"): with update-grub, the newest kernel also has the plain top entry.
  for (const entry of matches) {
    const missing = request.addArgs.filter((a) => !entry.args.includes(a));
    if (!missing.length) continue;
    lines[entry.linuxLine] = `${lines[entry.linuxLine]!.replace(/\s+$/, '')} ${missing.join(' ')}`;
    notes.push(`${missing.join(' ')} added to ${matches.length > 1 ? `the linux line of "${entry.titlePath}"` : 'its linux line'}`);
  }
  const setting = `set default="${target.titlePath}"`;
  // Top-level `set default=` lines without variables (grub-mkconfig's else-branch is indented: kept).
  const plain = lines.flatMap((l, i) => (/^set\s+default=/.test(l) && !l.includes('$') ? [i] : []));
  if (plain.length > 1) throw new UnexpectedFileError(FILE, 'at most one top-level set default= line', plain.map((i) => quoteLine(lines[i]!)).join(', '));
  if (plain.length === 1) {
    if (lines[plain[0]!] !== setting) {
      notes.unshift(`${lines[plain[0]!]!.trim()} -> ${setting}`);
      lines[plain[0]!] = setting;
    } else notes.unshift('already the default');
  } else {
    // GRUB reads `default` when it shows the menu, after the whole file ran: the last word wins.
    const firstEntry = lines.findIndex((l) => /^(menuentry|submenu)\s/.test(l.trim()));
    lines.splice(firstEntry < 0 ? lines.length : firstEntry, 0, setting);
    notes.unshift(`${setting} added`);
  }
  const content = lines.join('\n');
  return { content, changed: content !== cfg, summary: `${target.titlePath}: ${notes.join('; ')}` };
}

/**
 * The entry the default should name. One non-recovery entry booting the kernel: that
 * one. Several (update-grub: the newest kernel is both the plain top entry
 * "Debian GNU/Linux" and "Advanced options for ...>..., with Linux <release>"):
 * the one whose title names the release, which stays right when another kernel
 * becomes the newest.
 */
function pickTarget(matches: readonly Grub2Entry[], release: string, entries: readonly Grub2Entry[]): Grub2Entry {
  const wanted = `vmlinuz-${release}`;
  if (matches.length === 1) return matches[0]!;
  const named = matches.filter((e) => e.titlePath.split('>').at(-1)!.includes(release));
  if (matches.length > 1 && named.length === 1) return named[0]!;
  const found =
    matches.length === 0
      ? `0 (entries: ${entries.map((e) => e.kernel).join(', ') || 'none'})`
      : `${matches.length}, ${named.length === 0 ? 'none' : named.length} of them titled with ${release} (${matches.map((e) => `"${e.titlePath}"`).join(', ')})`;
  throw new UnexpectedFileError(FILE, `exactly one (non-recovery) entry booting ${wanted}, or one among them titled with ${release}`, found);
}
