import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bootKernelByDefaultGrub2, defaultGrub2Entry, parseGrub2 } from '../../../harness/patched-kernel/grub2.ts';

const CFG = readFileSync(join(import.meta.dirname, 'fixtures', 'debian12-grub.cfg'), 'utf8');
const TOA_TITLE = 'Advanced options for Debian GNU/Linux>Debian GNU/Linux, with Linux 6.1.192-toa';

describe('GRUB 2 grub.cfg (grub-mkconfig layout, with a submenu)', () => {
  it('parses entries with their numbering, title paths and ids; the effective default is the else branch (0)', () => {
    const parsed = parseGrub2(CFG);
    expect(parsed.default).toBe('0'); // grub-mkconfig's else-branch: what GRUB boots without next_entry
    expect(parsed.entries.map((e) => e.index)).toEqual(['0', '1>0', '1>1', '1>2']);
    expect(parsed.entries[1]).toMatchObject({ titlePath: TOA_TITLE, kernel: '/boot/vmlinuz-6.1.192-toa', id: 'gnulinux-6.1.192-toa-advanced-0b7d2c3e' });
    expect(defaultGrub2Entry(CFG).kernel).toBe('/boot/vmlinuz-6.1.0-56-amd64');
  });

  it('makes the -toa entry (not its recovery twin) the default and adds nohz=off to its linux line only', () => {
    const edit = bootKernelByDefaultGrub2(CFG, { release: '6.1.192-toa', addArgs: ['nohz=off'] });
    expect(edit.changed).toBe(true);
    const chosen = defaultGrub2Entry(edit.content);
    expect(chosen.titlePath).toBe(TOA_TITLE);
    expect(chosen.args).toEqual(['root=UUID=0b7d2c3e', 'ro', 'quiet', 'nohz=off']);
    expect(parseGrub2(edit.content).entries.filter((e) => e.args.includes('nohz=off'))).toHaveLength(1);
    // grub-mkconfig's own next_entry logic is left alone.
    expect(edit.content).toContain('   set default="${next_entry}"');
  });

  it('is idempotent', () => {
    const once = bootKernelByDefaultGrub2(CFG, { release: '6.1.192-toa', addArgs: ['nohz=off'] });
    const twice = bootKernelByDefaultGrub2(once.content, { release: '6.1.192-toa', addArgs: ['nohz=off'] });
    expect(twice.changed).toBe(false);
    expect(twice.summary).toContain('already the default');
  });

  it('refuses a kernel with no entry and an unbalanced file', () => {
    expect(() => bootKernelByDefaultGrub2(CFG, { release: '6.12.0-toa', addArgs: [] })).toThrow(/found 0/);
    expect(() => parseGrub2("menuentry 'x' {\n\tlinux /boot/vmlinuz-1 ro\n")).toThrow(/not closed/);
  });
});
