import { quoteLine, UnexpectedFileError, unchanged, type FileEdit } from './file-edit.ts';

/**
 * GRUB legacy's grub.conf (CentOS 6: /boot/grub/grub.conf), guide step 7:
 * "change default=1 to default=0" and "add nohz=off to the end of the line
 * containing the vmlinuz-2.6.32-toa kernel". Here the entry is found by its
 * kernel (vmlinuz-<release>), not assumed to be entry 0, so the edit is right
 * wherever `make install` put the entry. Also what `make install` does to the
 * file on CentOS 6 (new-kernel-pkg → grubby: a new stanza on top, `default`
 * moved so that the machine still boots the old kernel) — which is why the
 * guide has to change the default at all.
 */
export interface GrubLegacyEntry {
  index: number;
  title: string;
  /** `root (hd0,0)`'s device, if the stanza has one. */
  root?: string;
  /** The kernel path as written, e.g. /vmlinuz-2.6.32-642.el6.x86_64 */
  kernel: string;
  args: string[];
  initrd?: string;
}

export interface GrubLegacyConfig {
  /** The `default=` value as written (number or "saved"), null if absent (GRUB then boots 0). */
  default: string | null;
  entries: GrubLegacyEntry[];
}

const FILE = 'grub.conf';

export function parseGrubLegacy(conf: string): GrubLegacyConfig {
  const lines = conf.split('\n');
  const defaults = lines.filter((l) => /^\s*default\s*[= ]/.test(l));
  if (defaults.length > 1) throw new UnexpectedFileError(FILE, 'at most one default= line', defaults.map(quoteLine).join(', '));
  const entries: GrubLegacyEntry[] = [];
  let current: (Partial<GrubLegacyEntry> & { title: string; index: number }) | null = null;
  const close = (): void => {
    if (!current) return;
    if (current.kernel === undefined) throw new UnexpectedFileError(FILE, `a kernel line in the stanza "title ${current.title}"`, 'none');
    entries.push({ args: [], ...current } as GrubLegacyEntry);
    current = null;
  };
  for (const line of lines) {
    const words = line.trim().split(/\s+/);
    const keyword = words[0] ?? '';
    if (keyword.startsWith('#') || keyword === '') continue;
    if (keyword === 'title') {
      close();
      current = { index: entries.length, title: line.trim().slice('title'.length).trim() };
    } else if (current && keyword === 'root') {
      current.root = words.slice(1).join(' ');
    } else if (current && keyword === 'kernel') {
      if (current.kernel !== undefined) throw new UnexpectedFileError(FILE, `one kernel line per stanza ("title ${current.title}")`, 'two');
      current.kernel = words[1] ?? '';
      current.args = words.slice(2);
    } else if (current && keyword === 'initrd') {
      current.initrd = words[1] ?? '';
    }
  }
  close();
  const value = defaults[0]?.trim().replace(/^default\s*[= ]\s*/, '') ?? null;
  return { default: value, entries };
}

/** The stanza GRUB boots without anyone at the menu. */
export function defaultGrubLegacyEntry(conf: string): GrubLegacyEntry {
  const parsed = parseGrubLegacy(conf);
  if (parsed.entries.length === 0) throw new UnexpectedFileError(FILE, 'at least one "title" stanza', 'none');
  const index = parsed.default === null ? 0 : Number(parsed.default);
  if (!Number.isInteger(index)) throw new UnexpectedFileError(FILE, 'a numeric default=', `default=${parsed.default}`);
  const entry = parsed.entries[index];
  if (!entry) throw new UnexpectedFileError(FILE, `a stanza number ${index} (default=${index})`, `${parsed.entries.length} stanzas`);
  return entry;
}

export interface NewKernelStanza {
  title: string;
  kernel: string;
  args: readonly string[];
  initrd?: string;
  root?: string;
}

/**
 * `make install` on CentOS 6 (new-kernel-pkg --install, no --make-default): the new
 * stanza goes first and `default=N` becomes N+1, so the old kernel stays the default.
 */
export function addGrubLegacyEntry(conf: string, stanza: NewKernelStanza): FileEdit {
  const parsed = parseGrubLegacy(conf);
  if (parsed.entries.some((e) => e.kernel === stanza.kernel)) return unchanged(conf, `a stanza for ${stanza.kernel} exists`);
  const lines = conf.split('\n');
  const firstTitle = lines.findIndex((l) => /^\s*title\s/.test(l));
  const indent = firstTitle >= 0 ? (lines.slice(firstTitle + 1).find((l) => /^\s+\S/.test(l))?.match(/^\s+/)?.[0] ?? '\t') : '\t';
  const block = [
    `title ${stanza.title}`,
    ...(stanza.root ? [`${indent}root ${stanza.root}`] : []),
    `${indent}kernel ${[stanza.kernel, ...stanza.args].join(' ')}`,
    ...(stanza.initrd ? [`${indent}initrd ${stanza.initrd}`] : []),
  ];
  const at = firstTitle >= 0 ? firstTitle : lines.length - (lines.at(-1) === '' ? 1 : 0);
  lines.splice(at, 0, ...block);
  let summary = `stanza 0 "title ${stanza.title}" added`;
  const defaultLine = lines.findIndex((l) => /^\s*default\s*[= ]\s*\d+\s*$/.test(l));
  if (defaultLine >= 0 && firstTitle >= 0) {
    const old = Number(/\d+/.exec(lines[defaultLine]!)![0]);
    lines[defaultLine] = `default=${old + 1}`;
    summary += `; default=${old} -> default=${old + 1} (still the old kernel)`;
  }
  return { content: lines.join('\n'), changed: true, summary };
}

export interface BootKernelRequest {
  /** The kernel to boot: the stanza whose kernel is .../vmlinuz-<release>. */
  release: string;
  /** Words appended to that stanza's kernel line if missing (the guide: nohz=off). */
  addArgs: readonly string[];
}

/** Guide step 7: default= that kernel's stanza, and its kernel line gets `addArgs`. */
export function bootKernelByDefaultGrubLegacy(conf: string, request: BootKernelRequest): FileEdit {
  const parsed = parseGrubLegacy(conf);
  const wanted = `vmlinuz-${request.release}`;
  const matches = parsed.entries.filter((e) => e.kernel.split('/').at(-1) === wanted);
  if (matches.length !== 1) {
    throw new UnexpectedFileError(
      FILE,
      `exactly one stanza booting ${wanted}`,
      `${matches.length} (stanzas: ${parsed.entries.map((e) => e.kernel).join(', ') || 'none'})`,
    );
  }
  const target = matches[0]!;
  const lines = conf.split('\n');
  const notes: string[] = [];

  // The target stanza's kernel line: the (index+1)-th stanza's first kernel line.
  let stanza = -1;
  for (let i = 0; i < lines.length; i++) {
    const keyword = lines[i]!.trim().split(/\s+/)[0];
    if (keyword === 'title') stanza++;
    if (stanza === target.index && keyword === 'kernel') {
      const missing = request.addArgs.filter((arg) => !target.args.includes(arg));
      if (missing.length) {
        lines[i] = `${lines[i]!.replace(/\s+$/, '')} ${missing.join(' ')}`;
        notes.push(`${missing.join(' ')} added to its kernel line`);
      } else if (request.addArgs.length) {
        notes.push(`its kernel line already has ${request.addArgs.join(' ')}`);
      }
      break;
    }
  }

  const wantedDefault = `default=${target.index}`;
  const defaultLine = lines.findIndex((l) => /^\s*default\s*[= ]/.test(l));
  if (defaultLine >= 0) {
    const was = lines[defaultLine]!.trim();
    if (parsed.default === String(target.index)) notes.unshift(`already ${wantedDefault}`);
    else {
      lines[defaultLine] = wantedDefault;
      notes.unshift(`${was} -> ${wantedDefault}`);
    }
  } else {
    const firstSetting = lines.findIndex((l) => l.trim() !== '' && !l.trim().startsWith('#'));
    lines.splice(firstSetting < 0 ? lines.length : firstSetting, 0, wantedDefault);
    notes.unshift(`${wantedDefault} added`);
  }
  const content = lines.join('\n');
  return { content, changed: content !== conf, summary: `"title ${target.title}": ${notes.join('; ')}` };
}
