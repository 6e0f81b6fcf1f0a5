/**
 * The Vagrant provider (vagrant + vagrant-libvirt, QEMU/TCG): boxes from the
 * lab's offline images, Vagrantfiles rendered from vagrant/, the guest's
 * lifecycle, and the reaper for libvirt domains a killed run left behind.
 * Needs scripts/install-vagrant.sh (opt-in; not part of install-deps.sh).
 */
export { VagrantVm, type VagrantVmOptions, type VagrantTimings } from './vagrant-vm.ts';
export { ensureLibvirtBox, libvirtBoxMetadata, renderBoxVagrantfile, FULL_OS_KERNEL_COMMAND_LINE, type LibvirtBox, type LibvirtBoxMetadata } from './libvirt-box.ts';
export { renderVagrantfile, vagrantQemuArgs, type VagrantMachineSpec } from './vagrantfile.ts';
export { parseVagrantSshConfig, assertLoopbackOnly, type VagrantSshConfig } from './ssh-config.ts';
export { reapOrphanedDomains, removeDomain, domainExists, DOMAIN_PREFIX } from './domain-reaper.ts';
export { runVagrant, runVirsh } from './vagrant-cli.ts';
