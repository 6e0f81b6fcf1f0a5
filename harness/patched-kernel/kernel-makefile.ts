import { quoteLine, UnexpectedFileError, unchanged, type FileEdit } from './file-edit.ts';

/**
 * Guide step 3.4: "add a description to the end of EXTRAVERSION = ... displayed in
 * uname -r, for example, -toa". Appended to whatever EXTRAVERSION holds (RHEL
 * trees: `-220.23.1.el6.x86_64`; mainline: empty), keeping the line's spacing, as
 * the CentOS 6.8 script's `sed 's/^EXTRAVERSION =\(.*\)$/EXTRAVERSION =\1-toa/'`.
 */
const EXTRAVERSION = /^EXTRAVERSION[ \t]*=.*$/gm;

export function appendExtraversion(makefile: string, suffix: string): FileEdit {
  if (!/^[-+.\w]+$/.test(suffix)) throw new RangeError(`EXTRAVERSION suffix ${JSON.stringify(suffix)}: letters, digits, - + . _ only`);
  const lines = makefile.match(EXTRAVERSION) ?? [];
  if (lines.length !== 1) {
    throw new UnexpectedFileError(
      'Makefile',
      'one `EXTRAVERSION =` line (the top-level kernel Makefile)',
      lines.length === 0 ? 'none' : lines.map(quoteLine).join(', '),
    );
  }
  if (!/^VERSION[ \t]*=/m.test(makefile) || !/^PATCHLEVEL[ \t]*=/m.test(makefile)) {
    throw new UnexpectedFileError('Makefile', 'VERSION and PATCHLEVEL lines (the top-level kernel Makefile)', 'neither');
  }
  const line = lines[0]!;
  const trimmed = line.replace(/[ \t]+$/, '');
  if (trimmed.endsWith(suffix)) return unchanged(makefile, `EXTRAVERSION already ends with ${suffix}`);
  const updated = `${trimmed}${suffix}`;
  return { content: makefile.replace(line, updated), changed: true, summary: `${quoteLine(line)} -> ${quoteLine(updated)}` };
}

/** VERSION.PATCHLEVEL.SUBLEVEL + EXTRAVERSION, as kbuild spells the release (without LOCALVERSION). */
export function makefileRelease(makefile: string): string {
  const get = (name: string): string => new RegExp(`^${name}[ \\t]*=[ \\t]*(.*?)[ \\t]*$`, 'm').exec(makefile)?.[1] ?? '';
  const [version, patchlevel, sublevel, extra] = ['VERSION', 'PATCHLEVEL', 'SUBLEVEL', 'EXTRAVERSION'].map(get);
  if (!version || !patchlevel) throw new UnexpectedFileError('Makefile', 'VERSION and PATCHLEVEL', 'missing');
  return `${version}.${patchlevel}${sublevel ? `.${sublevel}` : ''}${extra}`;
}
