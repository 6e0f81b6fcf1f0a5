import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bootKernelByDefaultGrub2, defaultGrub2Entry, parseGrub2 } from '../../../harness/patched-kernel/grub2.ts';

/**
 * The grub.cfg update-grub really wrote on the lab's Debian 12 image after
 * `make install` of 6.1.192-toa (the patched-kernel procedure's step 5g), kept
 * as a fixture: two kernels, each with an ordinary and a recovery entry in the
 * submenu, and the newest (6.1.192-toa, by version sort) also as the plain top entry.
 */
const CFG = readFileSync(join(import.meta.dirname, 'fixtures', 'debian12-update-grub.cfg'), 'utf8');
const REQUEST = { release: '6.1.192-toa', addArgs: ['nohz=off'] };
const TOA_TITLE = 'Advanced options for Debian GNU/Linux>Debian GNU/Linux, with Linux 6.1.192-toa';
const UUID = '841880c2-c2ef-4261-96fe-e7d95282330f';
const LAB_ARGS = [`root=UUID=${UUID}`, 'ro', 'console=ttyS0', 'net.ifnames=0', 'mitigations=off', 'loglevel=5'];

describe('GRUB 2: the grub.cfg update-grub writes on Debian 12 with two kernels', () => {
  it('parses both kernels, recovery twins included; update-grub already made the newest kernel the default', () => {
    const parsed = parseGrub2(CFG);
    expect(parsed.entries.map((e) => [e.index, e.kernel])).toEqual([
      ['0', '/boot/vmlinuz-6.1.192-toa'],
      ['1>0', '/boot/vmlinuz-6.1.192-toa'],
      ['1>1', '/boot/vmlinuz-6.1.192-toa'],
      ['1>2', '/boot/vmlinuz-6.1.0-50-amd64'],
      ['1>3', '/boot/vmlinuz-6.1.0-50-amd64'],
    ]);
    expect(parsed.default).toBe('0');
    const chosen = defaultGrub2Entry(CFG);
    expect(chosen).toMatchObject({ titlePath: 'Debian GNU/Linux', kernel: '/boot/vmlinuz-6.1.192-toa', initrd: '/boot/initrd.img-6.1.192-toa', args: LAB_ARGS });
  });

  it('the guide edit: the default names the -toa entry by title, nohz=off on every ordinary -toa entry, nothing else touched', () => {
    const edit = bootKernelByDefaultGrub2(CFG, REQUEST);
    expect(edit.changed).toBe(true);
    const chosen = defaultGrub2Entry(edit.content);
    expect(chosen.titlePath).toBe(TOA_TITLE);
    expect(chosen.args).toEqual([...LAB_ARGS, 'nohz=off']);
    expect(chosen.initrd).toBe('/boot/initrd.img-6.1.192-toa');
    const withNohz = parseGrub2(edit.content).entries.filter((e) => e.args.includes('nohz=off')).map((e) => e.titlePath);
    expect(withNohz).toEqual(['Debian GNU/Linux', TOA_TITLE]);
    // Only the added default line and the two linux lines differ.
    const before = CFG.split('\n');
    const after = edit.content.split('\n');
    expect(after.length).toBe(before.length + 1);
    expect(after.filter((l) => !before.includes(l))).toEqual([
      `set default="${TOA_TITLE}"`,
      `\tlinux\t/boot/vmlinuz-6.1.192-toa root=UUID=${UUID} ro console=ttyS0 net.ifnames=0 mitigations=off loglevel=5 nohz=off`,
      `\t\tlinux\t/boot/vmlinuz-6.1.192-toa root=UUID=${UUID} ro console=ttyS0 net.ifnames=0 mitigations=off loglevel=5 nohz=off`,
    ]);
    expect(edit.content).toContain('   set default="${next_entry}"');
  });

  it('is idempotent', () => {
    const once = bootKernelByDefaultGrub2(CFG, REQUEST);
    const twice = bootKernelByDefaultGrub2(once.content, REQUEST);
    expect(twice.changed).toBe(false);
    expect(twice.content).toBe(once.content);
    expect(twice.summary).toBe(`${TOA_TITLE}: already the default`);
  });

  it('picks the older kernel just as well (one ordinary entry: the submenu one)', () => {
    const chosen = defaultGrub2Entry(bootKernelByDefaultGrub2(CFG, { release: '6.1.0-50-amd64', addArgs: [] }).content);
    expect(chosen.titlePath).toBe('Advanced options for Debian GNU/Linux>Debian GNU/Linux, with Linux 6.1.0-50-amd64');
  });

  it('refuses, changing nothing, when it cannot tell which entry is meant', () => {
    // Two ordinary entries boot the kernel and no title names the release.
    const renamed = CFG.replace("'Debian GNU/Linux, with Linux 6.1.192-toa'", "'Debian GNU/Linux, patched'");
    expect(() => bootKernelByDefaultGrub2(renamed, REQUEST)).toThrow(
      /grub\.cfg: expected exactly one \(non-recovery\) entry booting vmlinuz-6\.1\.192-toa, or one among them titled with 6\.1\.192-toa; found 2, none of them titled with 6\.1\.192-toa \("Debian GNU\/Linux", "Advanced options for Debian GNU\/Linux>Debian GNU\/Linux, patched"\)\. Nothing was changed\./,
    );
    expect(() => bootKernelByDefaultGrub2(CFG, { release: '6.12.0-toa', addArgs: ['nohz=off'] })).toThrow(/found 0 \(entries: /);
    // An entry without a linux line, a second plain default: not a grub.cfg this edit understands.
    expect(() => bootKernelByDefaultGrub2(CFG.replace(/\tlinux\t\/boot\/vmlinuz-6\.1\.0-50-amd64 .*loglevel=5 \n/, ''), REQUEST)).toThrow(/a linux line in menuentry/);
    const twoDefaults = `set default="0"\n${bootKernelByDefaultGrub2(CFG, REQUEST).content}`;
    expect(() => bootKernelByDefaultGrub2(twoDefaults, REQUEST)).toThrow(/at most one top-level set default= line/);
  });
});
