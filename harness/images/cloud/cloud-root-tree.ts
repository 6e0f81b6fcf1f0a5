import { cp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runHostCommand } from '../../exec/run-host-command.ts';
import { aptSources, coreImageModules, earlyGrubConfig, fstab, grubCfg, grubDefaults } from './boot-config.ts';
import type { CloudImageDefinition } from './cloud-image-catalog.ts';

/**
 * Turns mmdebstrap's tree into what a distribution ships: first-boot state
 * (no host keys, no machine-id: each instance makes its own), the ordinary
 * mirror in apt's sources, the boot configuration by UUID, and GRUB's modules
 * and core image — made with the tree's own GRUB (`chroot … grub-mkimage`),
 * so the boot loader and its modules are the suite's, not the host's.
 * Nothing of toa-lab's goes in: no user, no key, no password, no unit.
 */
export interface RootTreeIdentity {
  rootUuid: string;
  /** FAT volume id of the ESP (`XXXX-XXXX`), UEFI only. */
  espVolumeId?: string;
  kernelRelease: string;
}

export interface BootLoaderFiles {
  /** BIOS: core.img, for the BIOS boot partition; UEFI: the EFI binary, for the ESP. */
  coreImage: string;
  /** BIOS only: boot.img, the MBR's code. */
  bootImage?: string;
}

const GRUB_PLATFORM = { bios: 'i386-pc', uefi: 'x86_64-efi' } as const;

export async function finishRootTree(rootfs: string, definition: CloudImageDefinition, identity: RootTreeIdentity): Promise<BootLoaderFiles> {
  const put = async (path: string, content: string, mode = 0o644) => {
    await mkdir(join(rootfs, path, '..'), { recursive: true });
    await writeFile(join(rootfs, path), content, { mode });
  };

  // The name cloud-init replaces with the seed's local-hostname.
  await put('etc/hostname', 'localhost\n');
  await put('etc/hosts', '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n');
  // cloud-init's locale module leaves a system alone whose locale is already set (no locale-gen).
  await put('etc/default/locale', 'LANG=C.UTF-8\n');

  // First boot makes these per instance: cloud-init's ssh module the host keys, systemd the machine-id.
  for (const name of await readdir(join(rootfs, 'etc/ssh'))) {
    if (name.startsWith('ssh_host_')) await rm(join(rootfs, 'etc/ssh', name));
  }
  await put('etc/machine-id', '');
  await rm(join(rootfs, 'var/lib/dbus/machine-id'), { force: true });

  // mmdebstrap leaves its own one-line sources.list (main only); a published image has the usual three.
  await rm(join(rootfs, 'etc/apt/sources.list'), { force: true });
  const sources = aptSources(definition.suite);
  await put(sources.path, sources.content);
  if (definition.suite !== 'bookworm') await put('etc/apt/sources.list', '');

  await put('etc/fstab', fstab(identity.rootUuid, identity.espVolumeId));
  if (definition.firmware === 'uefi') await mkdir(join(rootfs, 'boot/efi'), { recursive: true });
  await put('etc/default/grub.d/50-cloud-image.cfg', grubDefaults(definition.firmware));
  await put('boot/grub/grub.cfg', grubCfg({ rootUuid: identity.rootUuid, kernelRelease: identity.kernelRelease, firmware: definition.firmware }));

  const files = await installGrubModules(rootfs, definition, identity.rootUuid);

  // The packages' .debs were synced out to the deb cache already.
  await rm(join(rootfs, 'var/cache/apt/archives'), { recursive: true, force: true });
  await mkdir(join(rootfs, 'var/cache/apt/archives/partial'), { recursive: true });
  return files;
}

/** As grub-install does: the platform's modules under /boot/grub/<platform>/, and a core image made from them. */
async function installGrubModules(rootfs: string, definition: CloudImageDefinition, rootUuid: string): Promise<BootLoaderFiles> {
  const platform = GRUB_PLATFORM[definition.firmware];
  const inTree = `/boot/grub/${platform}`;
  await cp(join(rootfs, 'usr/lib/grub', platform), join(rootfs, inTree), { recursive: true });
  await writeFile(join(rootfs, inTree, 'load.cfg'), earlyGrubConfig(rootUuid));
  const output = definition.firmware === 'bios' ? `${inTree}/core.img` : `${inTree}/grubx64.efi`;
  await runHostCommand('chroot', [
    rootfs,
    'grub-mkimage',
    '-O',
    platform,
    '-d',
    `/usr/lib/grub/${platform}`,
    '-c',
    `${inTree}/load.cfg`,
    '-p',
    '/boot/grub',
    '-o',
    output,
    ...coreImageModules(definition.firmware),
  ]);
  return {
    coreImage: join(rootfs, output),
    ...(definition.firmware === 'bios' && { bootImage: join(rootfs, inTree, 'boot.img') }),
  };
}
