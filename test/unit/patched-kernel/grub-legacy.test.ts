import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  addGrubLegacyEntry,
  bootKernelByDefaultGrubLegacy,
  defaultGrubLegacyEntry,
  parseGrubLegacy,
} from '../../../harness/patched-kernel/grub-legacy.ts';

const CONF = readFileSync(join(import.meta.dirname, 'fixtures', 'centos6-grub.conf'), 'utf8');
const TOA = '2.6.32-220.23.1.el6.x86_64.rs-toa';
const ARGS = ['ro', 'root=/dev/mapper/VolGroup-lv_root', 'rhgb', 'quiet'];

/** grub.conf after `make install` on CentOS 6: the -toa stanza on top, default moved to 1. */
function afterMakeInstall(): string {
  return addGrubLegacyEntry(CONF, { title: `CentOS (${TOA})`, root: '(hd0,0)', kernel: `/vmlinuz-${TOA}`, args: ARGS, initrd: `/initramfs-${TOA}.img` }).content;
}

describe('GRUB legacy grub.conf (CentOS 6 layout)', () => {
  it('parses the stanzas, their kernels, arguments and initrds', () => {
    const parsed = parseGrubLegacy(CONF);
    expect(parsed.default).toBe('0');
    expect(parsed.entries.map((e) => e.kernel)).toEqual([
      '/vmlinuz-2.6.32-642.15.1.el6.x86_64',
      '/vmlinuz-2.6.32-642.el6.x86_64',
      '/vmlinuz-2.6.32-573.el6.x86_64',
    ]);
    expect(parsed.entries[1]).toMatchObject({ index: 1, title: 'CentOS 6 (2.6.32-642.el6.x86_64)', root: '(hd0,0)', initrd: '/initramfs-2.6.32-642.el6.x86_64.img' });
    expect(parsed.entries[0]!.args).toContain('crashkernel=auto');
  });

  it('make install (new-kernel-pkg) puts the new stanza first and keeps the old default: default=0 -> default=1', () => {
    const edit = addGrubLegacyEntry(CONF, { title: `CentOS (${TOA})`, root: '(hd0,0)', kernel: `/vmlinuz-${TOA}`, args: ARGS });
    expect(edit.summary).toContain('default=0 -> default=1');
    const parsed = parseGrubLegacy(edit.content);
    expect(parsed.default).toBe('1');
    expect(parsed.entries[0]).toMatchObject({ title: `CentOS (${TOA})`, kernel: `/vmlinuz-${TOA}`, root: '(hd0,0)' });
    expect(defaultGrubLegacyEntry(edit.content).kernel).toBe('/vmlinuz-2.6.32-642.15.1.el6.x86_64');
    expect(edit.content).toContain(`title CentOS (${TOA})\n\troot (hd0,0)\n\tkernel /vmlinuz-${TOA} ro`);
    expect(addGrubLegacyEntry(edit.content, { title: 'again', kernel: `/vmlinuz-${TOA}`, args: [] }).changed).toBe(false);
  });

  it("the guide's edit: default=1 -> default=0 and nohz=off at the end of the -toa kernel line, nothing else", () => {
    const installed = afterMakeInstall();
    const edit = bootKernelByDefaultGrubLegacy(installed, { release: TOA, addArgs: ['nohz=off'] });
    expect(edit.summary).toBe(`"title CentOS (${TOA})": default=1 -> default=0; nohz=off added to its kernel line`);
    const chosen = defaultGrubLegacyEntry(edit.content);
    expect(chosen.kernel).toBe(`/vmlinuz-${TOA}`);
    expect(chosen.args.at(-1)).toBe('nohz=off');
    const changedLines = edit.content.split('\n').filter((line, i) => line !== installed.split('\n')[i]);
    expect(changedLines).toEqual(['default=0', `\tkernel /vmlinuz-${TOA} ${ARGS.join(' ')} nohz=off`]);
    // The other stanzas keep their kernel lines.
    expect(parseGrubLegacy(edit.content).entries.slice(1).every((e) => !e.args.includes('nohz=off'))).toBe(true);
  });

  it('is idempotent', () => {
    const once = bootKernelByDefaultGrubLegacy(afterMakeInstall(), { release: TOA, addArgs: ['nohz=off'] });
    const twice = bootKernelByDefaultGrubLegacy(once.content, { release: TOA, addArgs: ['nohz=off'] });
    expect(twice.changed).toBe(false);
    expect(twice.content).toBe(once.content);
    expect(twice.summary).toContain('already default=0');
  });

  it('finds the kernel wherever make install put it (not assumed to be entry 0)', () => {
    const edit = bootKernelByDefaultGrubLegacy(CONF, { release: '2.6.32-573.el6.x86_64', addArgs: ['nohz=off'] });
    expect(parseGrubLegacy(edit.content).default).toBe('2');
    expect(defaultGrubLegacyEntry(edit.content).kernel).toBe('/vmlinuz-2.6.32-573.el6.x86_64');
  });

  it('adds default= when the file has none (GRUB would boot entry 0)', () => {
    const noDefault = afterMakeInstall().replace(/^default=\d+\n/m, '');
    const moved = noDefault.replace(/^(title CentOS \(2\.6\.32-220[^\n]*\n(?:\t[^\n]*\n)*)/m, '');
    const edit = bootKernelByDefaultGrubLegacy(noDefault, { release: '2.6.32-642.el6.x86_64', addArgs: [] });
    expect(parseGrubLegacy(edit.content).default).toBe('2');
    expect(moved).not.toContain(TOA);
  });

  it('refuses to guess: no stanza for the kernel, two of them, a broken stanza, default=saved', () => {
    expect(() => bootKernelByDefaultGrubLegacy(CONF, { release: TOA, addArgs: ['nohz=off'] })).toThrow(/exactly one stanza booting vmlinuz-2\.6\.32-220\.23\.1\.el6\.x86_64\.rs-toa; found 0/);
    const doubled = `${afterMakeInstall()}title copy\n\tkernel /vmlinuz-${TOA} ro\n`;
    expect(() => bootKernelByDefaultGrubLegacy(doubled, { release: TOA, addArgs: [] })).toThrow(/found 2/);
    expect(() => parseGrubLegacy('default=0\ntitle broken\n\troot (hd0,0)\n')).toThrow(/a kernel line in the stanza/);
    expect(() => parseGrubLegacy('default=0\ndefault=1\n')).toThrow(/at most one default= line/);
    expect(() => defaultGrubLegacyEntry(CONF.replace('default=0', 'default=saved'))).toThrow(/numeric default=/);
    expect(() => defaultGrubLegacyEntry(CONF.replace('default=0', 'default=7'))).toThrow(/stanza number 7/);
  });
});
