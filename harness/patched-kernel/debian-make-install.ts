import { copyFile, cp, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { EXIT_CODES, shellQuote, shScript } from '../os/shell.ts';

/**
 * Guide steps 5b/5c (`make modules_install`, `make install`) landing on the lab's
 * Debian 12 image. The kernel is built on the host (kernel-cache.ts); what its
 * tree would hand to the two make targets is pushed into the guest, and the
 * guest does the rest itself, as Debian does:
 *
 *   /usr/src/linux-<release>/{arch/x86/boot/bzImage, System.map, .config}
 *       — the parts of the build tree `make install` reads;
 *   /lib/modules/<release>/   — what `make modules_install` copies, then depmod;
 *   installkernel <release> arch/x86/boot/bzImage System.map /boot
 *       — exactly the call the kernel's scripts/install.sh makes; Debian's
 *       installkernel (debianutils) copies vmlinuz/System.map/config to /boot and
 *       runs /etc/kernel/postinst.d: initramfs-tools (update-initramfs -c, the
 *       initrd.img-<release>), dkms, zz-update-grub (update-grub, if grub.cfg exists).
 */

/** Where the build tree's install inputs go in the guest (Debian keeps kernel trees under /usr/src). */
export function guestTreeDir(release: string): string {
  return `/usr/src/linux-${release}`;
}

export interface GuestInstallInputs {
  /** Pushed to guestTreeDir(): arch/x86/boot/bzImage, System.map, .config. */
  tree: string;
  /** Pushed to /lib/modules/<release>. */
  modules: string;
}

/**
 * The push, assembled on the host from the cached staging root. The staged
 * modules' build/source links point into the host's tree and are left out (the
 * guest has no tree); toa.ko is the one refreshToaModule vouched for.
 */
export async function stageGuestInstallInputs(options: { stagingRoot: string; release: string; toaModule: string; dir: string }): Promise<GuestInstallInputs> {
  const { stagingRoot, release, dir } = options;
  const tree = join(dir, `linux-${release}`);
  await mkdir(join(tree, 'arch', 'x86', 'boot'), { recursive: true });
  await copyFile(join(stagingRoot, 'boot', `vmlinuz-${release}`), join(tree, 'arch', 'x86', 'boot', 'bzImage'));
  await copyFile(join(stagingRoot, 'boot', `System.map-${release}`), join(tree, 'System.map'));
  await copyFile(join(stagingRoot, 'boot', `config-${release}`), join(tree, '.config'));
  const modules = join(dir, 'modules', release);
  await cp(join(stagingRoot, 'lib', 'modules', release), modules, {
    recursive: true,
    filter: (path) => path !== join(stagingRoot, 'lib', 'modules', release, 'build') && path !== join(stagingRoot, 'lib', 'modules', release, 'source'),
  });
  await copyFile(options.toaModule, join(modules, 'kernel', 'net', 'toa', 'toa.ko'));
  return { tree, modules };
}

const F = EXIT_CODES.failure;
const P = EXIT_CODES.precondition;

/**
 * The machine's GRUB 2 before the procedure, as Debian's installer leaves it: a
 * grub.cfg made by update-grub from /etc/default/grub, listing the installed
 * kernel. The image has the tools but no grub.cfg (it cannot be generated in
 * the image builder's chroot: grub-probe needs the real root device), so it is
 * made here once; kept if it exists. Without it zz-update-grub does nothing.
 */
export function renderGrubAsInstalledScript(): string {
  return shScript('GRUB 2 as installed: /boot/grub/grub.cfg by update-grub', [
    `command -v update-grub >/dev/null 2>&1 || die ${P} "update-grub is not installed (grub2-common): the image has no GRUB 2 tools"`,
    'if [ -f /boot/grub/grub.cfg ]; then',
    '  echo "toa-lab: /boot/grub/grub.cfg exists; kept"',
    'else',
    '  mkdir -p /boot/grub',
    `  update-grub || die ${F} "update-grub failed"`,
    'fi',
    'grep -E "^[[:space:]]*(menuentry|submenu|linux)[[:space:]]" /boot/grub/grub.cfg',
    'kernels=$(cd /boot && echo vmlinuz-*)',
    'echo "toa-lab: /boot/grub/grub.cfg lists $(grep -c "^[[:space:]]*linux[[:space:]]" /boot/grub/grub.cfg) linux lines; /boot has $kernels"',
  ]);
}

/** `make modules_install` in the guest, after the push: depmod for the release, then what modprobe will find. */
export function renderGuestModulesInstallScript(release: string): string {
  const dir = `/lib/modules/${release}`;
  return shScript(`make modules_install (the pushed ${dir}): depmod ${release}`, [
    `release=${shellQuote(release)}`,
    `[ -f "${dir}/kernel/net/toa/toa.ko" ] || die ${P} "${dir}/kernel/net/toa/toa.ko is missing: the push did not land"`,
    `depmod "$release" || die ${F} "depmod $release failed"`,
    `grep -q '^kernel/net/toa/toa.ko:' "${dir}/modules.dep" || die ${F} "modules.dep of $release does not list kernel/net/toa/toa.ko"`,
    `echo "toa-lab: $(wc -l < "${dir}/modules.dep") modules in ${dir}/modules.dep, toa among them; $(modinfo -k "$release" -F vermagic toa)"`,
  ]);
}

/**
 * `make install` in the guest: scripts/install.sh's installkernel call, run in the
 * tree (installkernel reads `$(dirname System.map)/.config`). Its postinst.d hooks
 * print what they run (run-parts --verbose): the step's evidence.
 */
export function renderGuestInstallKernelScript(release: string): string {
  return shScript(`make install: installkernel ${release} (Debian's, with /etc/kernel/postinst.d)`, [
    `release=${shellQuote(release)}`,
    `cd ${shellQuote(guestTreeDir(release))} || die ${P} "${guestTreeDir(release)} is missing: the push did not land"`,
    `command -v installkernel >/dev/null 2>&1 || die ${P} "installkernel (debianutils) is not installed"`,
    `installkernel "$release" arch/x86/boot/bzImage System.map /boot || die ${F} "installkernel $release failed"`,
    'for f in vmlinuz System.map config initrd.img; do',
    `  [ -f "/boot/$f-$release" ] || die ${F} "installkernel left no /boot/$f-$release (postinst.d/initramfs-tools did not run?)"`,
    'done',
    `grep -q "vmlinuz-$release" /boot/grub/grub.cfg || die ${F} "/boot/grub/grub.cfg has no entry for vmlinuz-$release (postinst.d/zz-update-grub did not run?)"`,
    'ls -l /boot',
    'echo "toa-lab: /boot/vmlinuz-$release, initrd.img-$release ($(du -k "/boot/initrd.img-$release" | cut -f1) KiB); grub.cfg lists $(grep -c "^[[:space:]]*linux[[:space:]]" /boot/grub/grub.cfg) linux lines"',
  ]);
}
