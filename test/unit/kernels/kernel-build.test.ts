import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findVmlinuz } from '../../../harness/images/microvm/build-microvm-image.ts';
import { loadOrderFromModulesDep } from '../../../harness/images/microvm/kernel-modules.ts';
import { chrootCommand, kernelChrootRecipe, recipeKey, suiteRecipe } from '../../../harness/kernels/suite-chroot.ts';

const sid = {
  suite: 'sid' as const,
  release: '7.2.13+deb14-amd64',
  headers: { name: 'linux-headers-7.2.13+deb14-amd64', version: '7.2.13-1' },
};

describe('the build chroot of an archive kernel', () => {
  it('is sid with exactly the kernel headers, fetched with Check-Valid-Until off (expired Release file)', () => {
    const recipe = kernelChrootRecipe(sid);
    expect(recipe.suite).toBe('sid');
    expect(recipe.packages).toContain('linux-headers-7.2.13+deb14-amd64');
    expect(recipe.aptOptions).toEqual(['Acquire::Check-Valid-Until "false"']);
    expect(recipe.pockets).toBeUndefined();
  });

  it('is the base release plus the pocket for backports and security', () => {
    const recipe = kernelChrootRecipe({ ...sid, suite: 'trixie-backports', headers: { name: 'linux-headers-7.3.4+deb13-amd64', version: '7.3.4-1~bpo13+1' } });
    expect(recipe.suite).toBe('trixie');
    expect(recipe.pockets).toEqual(['deb http://deb.debian.org/debian trixie-backports main']);
    expect(recipe.aptOptions).toBeUndefined();
    expect(kernelChrootRecipe({ ...sid, suite: 'bookworm-security' }).pockets).toEqual([
      'deb http://deb.debian.org/debian-security bookworm-security main',
    ]);
  });

  it('keeps the three micro-VM suites on their cached recipes', () => {
    expect(recipeKey(suiteRecipe('trixie'))).toBe('trixie-15945c9326ed');
  });

  it('runs make with /proc mounted (objtool in the 7.2 headers reads /proc/self), in its own mount namespace', () => {
    const [command, args] = chrootCommand('/c/sid', ['make', '-C', '/tmp/x']);
    expect(command).toBe('unshare');
    expect(args).toEqual(['--fork', '--pid', '--mount-proc=/c/sid/proc', 'chroot', '/c/sid', 'make', '-C', '/tmp/x']);
  });
});

describe('a kernel from its packages, whatever the layout', () => {
  const root = mkdtempSync(join(tmpdir(), 'vmlinuz-'));

  it('finds /boot/vmlinuz-<rel> (one package, ≤ 6.x)', () => {
    mkdirSync(join(root, 'boot'), { recursive: true });
    writeFileSync(join(root, 'boot', 'vmlinuz-6.1.0-57-amd64'), 'k');
    expect(findVmlinuz(root, '6.1.0-57-amd64')).toBe(join(root, 'boot', 'vmlinuz-6.1.0-57-amd64'));
  });

  it('finds /usr/lib/modules/<rel>/vmlinuz (linux-binary-<rel>, split 7.x)', () => {
    mkdirSync(join(root, 'usr', 'lib', 'modules', '7.2.13+deb14-amd64'), { recursive: true });
    writeFileSync(join(root, 'usr', 'lib', 'modules', '7.2.13+deb14-amd64', 'vmlinuz'), 'k');
    expect(findVmlinuz(root, '7.2.13+deb14-amd64')).toMatch(/usr\/lib\/modules\/7\.2\.13\+deb14-amd64\/vmlinuz$/);
  });

  it('says where it looked when the packages hold no kernel', () => {
    expect(() => findVmlinuz(root, '7.3.4+deb13-amd64')).toThrow(/no kernel image for 7\.3\.4\+deb13-amd64.*\/boot\/vmlinuz-7\.3\.4\+deb13-amd64/);
  });

  it("takes a driver listed in modules.builtin (linux-base-<rel>) as present, not missing: 7.x builds virtio_pci in", () => {
    const dep = 'kernel/net/core/failover.ko.xz:\nkernel/drivers/net/net_failover.ko.xz: kernel/net/core/failover.ko.xz\nkernel/drivers/net/virtio_net.ko.xz: kernel/drivers/net/net_failover.ko.xz kernel/net/core/failover.ko.xz\n';
    expect(() => loadOrderFromModulesDep(dep, ['virtio_pci', 'virtio_net'])).toThrow(/virtio_pci/);
    expect(loadOrderFromModulesDep(dep, ['virtio_pci', 'virtio_net'], 'kernel/drivers/virtio/virtio_pci.ko\n')).toEqual([
      'kernel/net/core/failover.ko.xz',
      'kernel/drivers/net/net_failover.ko.xz',
      'kernel/drivers/net/virtio_net.ko.xz',
    ]);
  });
});

describe('kernel command line from the kernel config', () => {
  it('gives PREEMPT_RT noirqdebug (its threaded serial IRQ would be disabled as spurious under TCG load), others nothing', async () => {
    const { labKernelArgs } = await import('../../../harness/images/microvm/build-microvm-image.ts');
    expect(labKernelArgs('CONFIG_PREEMPT_RT=y\n# CONFIG_PREEMPT_RT_NEEDS_BH_LOCK is not set\n')).toEqual(['noirqdebug']);
    expect(labKernelArgs('CONFIG_PREEMPT_DYNAMIC=y\n# CONFIG_PREEMPT_RT is not set\n')).toEqual([]);
  });
});
