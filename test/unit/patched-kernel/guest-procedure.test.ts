import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildPatchedKernel } from '../../../harness/patched-kernel/kernel-build.ts';
import { GuestMachine } from '../../../harness/patched-kernel/tree-access.ts';
import { LocalShell } from '../../helpers/local-shell.ts';

/**
 * The guide's in-guest path (steps 1–6 on the machine itself, over GuestShell) on a
 * stand-in for the LVS tarball: a tree whose Makefile fakes kbuild's targets. What is
 * real: the tarball by path, the base64 file transport and script runner of
 * GuestMachine, every rendered script, every edit, the step bookkeeping.
 */
const TREE = 'linux-2.6.32-220.23.1.el6.x86_64.rs';
const FAKE_KBUILD = [
  'VERSION = 2',
  'PATCHLEVEL = 6',
  'SUBLEVEL = 32',
  'EXTRAVERSION = -220.23.1.el6.x86_64.rs',
  'KERNELRELEASE = $(VERSION).$(PATCHLEVEL).$(SUBLEVEL)$(EXTRAVERSION)',
  'all:',
  '\tmkdir -p net/toa && echo ko > net/toa/toa.ko && echo "  LD [M]  net/toa/toa.ko"',
  'kernelrelease:',
  '\t@echo $(KERNELRELEASE)',
  'oldconfig:',
  '\t@echo "fake kconfig: nothing new"',
  'modules_install:',
  '\tmkdir -p $(INSTALL_MOD_PATH)/lib/modules/$(KERNELRELEASE)/kernel/net/toa',
  '\tcp net/toa/toa.ko $(INSTALL_MOD_PATH)/lib/modules/$(KERNELRELEASE)/kernel/net/toa/',
  '\techo "kernel/net/toa/toa.ko:" > $(INSTALL_MOD_PATH)/lib/modules/$(KERNELRELEASE)/modules.dep',
  '\techo "  DEPMOD  $(KERNELRELEASE)"',
  'install:',
  '\tmkdir -p $(INSTALL_PATH) && echo vmlinuz > $(INSTALL_PATH)/vmlinuz-$(KERNELRELEASE)',
  '',
].join('\n');

describe('steps 1–6 over GuestShell on a tree from a tarball given by path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'toa-lab-pk-guest-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'src', TREE, 'net', 'toa'), { recursive: true });
  writeFileSync(join(dir, 'src', TREE, 'Makefile'), FAKE_KBUILD);
  writeFileSync(join(dir, 'src', TREE, '.config'), 'CONFIG_INET=y\nCONFIG_IPV6=m\nCONFIG_KPROBES=y\n');
  writeFileSync(join(dir, 'src', TREE, 'net', 'toa', 'toa.h'), readFileSync(join(import.meta.dirname, 'fixtures', 'lvs-toa.h')));
  const tarball = join(dir, 'Linux-2.6.32-220.23.1.el6.x86_64.rs.src.tar.gz');
  spawnSync('tar', ['czf', tarball, '-C', join(dir, 'src'), TREE]);

  const build = () =>
    buildPatchedKernel({
      machine: new GuestMachine(new LocalShell()),
      source: { kind: 'lvs-tarball', location: tarball, tree: TREE },
      workDir: join(dir, 'work'),
      toaKind: 254,
      extraversion: '-toa',
      jobs: 2,
      staging: { root: join(dir, 'stage'), installKernelHome: join(dir, 'home') },
    });

  it('runs every step, with its evidence, and installs the -toa kernel', async () => {
    const outcome = await build();
    expect(outcome.steps.map((s) => `${s.name}: ${s.status}`)).toEqual([
      '1. Obtain the kernel source tree: passed',
      '2. net/toa/toa.h: TCPOPT_TOA: passed',
      '3. .config: CONFIG_IPV6=y, CONFIG_TOA=m: passed',
      '4. Makefile: EXTRAVERSION suffix: passed',
      '5a. make -j n: passed',
      '5b. make modules_install: passed',
      '5c. make install: passed',
    ]);
    expect(outcome.release).toBe('2.6.32-220.23.1.el6.x86_64.rs-toa');
    expect(outcome.steps[1]!.summary).toBe('TCPOPT_TOA 200 -> 254');
    expect(outcome.steps[2]!.summary).toBe('CONFIG_IPV6 m -> y; appended CONFIG_TOA=m; kbuild kept CONFIG_TOA=m, CONFIG_IPV6=y');
    expect(readFileSync(join(dir, 'work', TREE, '.config'), 'utf8')).toBe('CONFIG_INET=y\nCONFIG_IPV6=y\nCONFIG_KPROBES=y\n\n# toa\nCONFIG_TOA=m\n');
    expect(readFileSync(join(dir, 'stage', 'boot', `vmlinuz-${outcome.release}`), 'utf8')).toBe('vmlinuz\n');
    for (const step of outcome.steps) expect(step.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('run again, every edit says it was already made (idempotent)', async () => {
    const outcome = await build();
    expect(outcome.passed).toBe(true);
    expect(outcome.steps[1]!.summary).toBe('TCPOPT_TOA already 254');
    expect(outcome.steps[2]!.summary).toMatch(/^CONFIG_IPV6 already y; CONFIG_TOA already m;/);
    expect(outcome.steps[3]!.summary).toMatch(/^EXTRAVERSION already ends with -toa; kernelrelease 2\.6\.32-220\.23\.1\.el6\.x86_64\.rs-toa$/);
  });

  it('a tree without net/toa fails step 1 with the reason and skips the rest', async () => {
    const outcome = await buildPatchedKernel({
      machine: new GuestMachine(new LocalShell()),
      source: { kind: 'lvs-tarball', location: join(dir, 'missing.tar.gz'), tree: 'nothing' },
      workDir: join(dir, 'work2'),
      toaKind: 254,
      extraversion: '-toa',
    });
    expect(outcome.steps[0]).toMatchObject({ status: 'failed' });
    expect(outcome.steps[0]!.summary).toContain('missing.tar.gz does not exist');
    expect(outcome.steps.slice(1).every((s) => s.status === 'skipped')).toBe(true);
  });
});
