import type { BoxProviders, ImageSource, VagrantProvider } from './profile.ts';

/**
 * Which Vagrant providers the public boxes the rows name are published for. The lab's
 * Vagrant provider is vagrant-libvirt: a box published for VirtualBox only cannot boot
 * there (Vagrant refuses it: "The box you're attempting to add doesn't support the
 * provider you requested").
 *
 * None of this was fetched from Vagrant Cloud: the machines the lab is developed on have no
 * internet. Each list is what its publisher is well known to build, written down with its
 * basis, and marked "not verified here"; `images list` shows it, and a user's config states
 * its own box's provider (`"provider": "libvirt"`), which then wins.
 */

/** The provider the lab's Vagrant machine uses (harness/machine/vagrant-machine.ts). */
export const LAB_VAGRANT_PROVIDER: VagrantProvider = 'libvirt';

const NOT_VERIFIED = 'not verified here';

/**
 * By publisher (the part of a box name before the slash):
 * - `ubuntu/*`: Canonical's official boxes (xenial64, bionic64, focal64) are built for VirtualBox only.
 * - `centos/*`: the CentOS project's boxes (centos/7, centos/8) are built for libvirt and VirtualBox
 *   (centos/7 also for VMware and Hyper-V).
 * - `debian/*`: the Debian cloud team's boxes (jessie64 … bullseye64) are built for libvirt and VirtualBox.
 * - `generic/*`: the Roboxes project builds every box for libvirt, VirtualBox, VMware, Hyper-V and Parallels.
 * - `bento/*`: Chef's Bento boxes are built for VirtualBox, VMware and Parallels; only releases
 *   from 2023 on added libvirt/QEMU, so the old boxes the rows name (centos-6.8, centos-7.2,
 *   opensuse-leap-42.2, built 2016–2017) have no libvirt build.
 */
export const BOX_PROVIDERS = {
  ubuntu: { published: ['virtualbox'], basis: `Canonical's official ubuntu/* boxes (${NOT_VERIFIED})` },
  centos7: { published: ['libvirt', 'virtualbox', 'vmware_desktop', 'hyperv'], basis: `the CentOS project's centos/7 box (${NOT_VERIFIED})` },
  centos8: { published: ['libvirt', 'virtualbox'], basis: `the CentOS project's centos/8 box (${NOT_VERIFIED})` },
  debian: { published: ['libvirt', 'virtualbox'], basis: `the Debian cloud team's debian/* boxes (${NOT_VERIFIED})` },
  roboxes: { published: ['libvirt', 'virtualbox', 'vmware_desktop', 'hyperv', 'parallels'], basis: `Roboxes' generic/* boxes (${NOT_VERIFIED})` },
  bentoLegacy: { published: ['virtualbox', 'vmware_desktop', 'parallels'], basis: `Chef's Bento boxes of 2016–2017, before Bento built for libvirt (${NOT_VERIFIED})` },
} as const satisfies Record<string, BoxProviders>;

export const VAGRANT_PROVIDERS: readonly VagrantProvider[] = ['libvirt', 'virtualbox', 'vmware_desktop', 'hyperv', 'parallels'];

/**
 * A user config's `"provider"` on a vagrant-box entry (`"libvirt"`): the provider the box is
 * for, in the user's own words. Absent: nothing is known (images list says what the lab needs).
 */
export function userBoxProvider(value: unknown, where: string): { providers?: BoxProviders } {
  if (value === undefined) return {};
  const provider = VAGRANT_PROVIDERS.find((p) => p === value);
  if (!provider) throw new Error(`user image config: ${where}.provider must be one of ${VAGRANT_PROVIDERS.join(', ')} (found ${JSON.stringify(value)})`);
  return { providers: { published: [provider], basis: 'as the config says' } };
}

/**
 * Whether the lab's provider can boot a box: `yes`/`no` by what it is published for,
 * `unknown` when nothing is known of it.
 */
export function boxFitsLab(source: Extract<ImageSource, { kind: 'vagrant-box' }>): 'yes' | 'no' | 'unknown' {
  if (!source.providers) return 'unknown';
  return source.providers.published.includes(LAB_VAGRANT_PROVIDER) ? 'yes' : 'no';
}

/** One line for `images list`: the providers, and whether the lab's vagrant-libvirt can use the box. */
export function describeBoxProviders(source: Extract<ImageSource, { kind: 'vagrant-box' }>): string {
  const providers = source.providers;
  switch (boxFitsLab(source)) {
    case 'unknown':
      return `[providers not known: the lab's vagrant-${LAB_VAGRANT_PROVIDER} needs a ${LAB_VAGRANT_PROVIDER} box]`;
    case 'yes':
      return `[${providers!.published.join(', ')}: ${providers!.basis}]`;
    case 'no':
      return `[${providers!.published.join(', ')} only: ${providers!.basis} — NOT usable by the lab's vagrant-${LAB_VAGRANT_PROVIDER}]`;
  }
}
