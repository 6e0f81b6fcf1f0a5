import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCached } from '../../cache/artifact-cache.ts';
import { hashSourceTrees } from '../../cache/source-hash.ts';
import { runHostCommand } from '../../exec/run-host-command.ts';
import { candidatePackage, downloadDeb, extractDeb, type DebianPackage } from '../debian/debian-packages.ts';
import { buildCloudDisk, cloudDiskRecipe, resolveCloudKernel } from './build-cloud-image.ts';
import { getCloudImageDefinition } from './cloud-image-catalog.ts';

/**
 * A Vagrant box in the standard form for vagrant-libvirt, as box authors
 * publish them: a tar of
 * - box.img: the BIOS cloud disk (boot loader, kernel and initrd inside) with
 *   Vagrant's conventions added: a `vagrant` user holding Vagrant's public
 *   "insecure" key (taken from Debian's vagrant package, which Vagrant swaps for
 *   a per-machine key at first `vagrant up`) and passwordless sudo;
 * - metadata.json: `{"provider":"libvirt","format":"qcow2","virtual_size":GiB}`;
 * - a Vagrantfile with the box's defaults.
 * No kernel outside the disk, no toa-lab parts. With no datasource to ask,
 * cloud-init runs with its "None" datasource: DHCP on the first NIC (cloud-init's
 * fallback network configuration) and sshd host keys made per machine at first boot.
 * Cached under `<cache>/images/cloud/vagrant/<box name>/<hash>`.
 */
export const STANDARD_BOX_NAME = 'debian-12-genericcloud-vagrant';
const BASE_IMAGE = 'debian-12-genericcloud';

export interface StandardVagrantBox {
  name: string;
  dir: string;
  /** The .box file (a tar: box.img, metadata.json, Vagrantfile). */
  box: string;
  /** The insecure private key matching the box's vagrant user (from the same vagrant package). */
  insecurePrivateKey: string;
  kernelRelease: string;
  built: boolean;
}

export const BOX_MEMBERS = ['metadata.json', 'Vagrantfile', 'box.img'] as const;

export interface LibvirtBoxMetadata {
  provider: 'libvirt';
  format: 'qcow2';
  /** Whole GiB: vagrant-libvirt sizes the domain's volume from it. */
  virtual_size: number;
}

export function boxMetadata(virtualSizeBytes: number): LibvirtBoxMetadata {
  return { provider: 'libvirt', format: 'qcow2', virtual_size: Math.ceil(virtualSizeBytes / 2 ** 30) };
}

/**
 * The box's defaults: the guest is Debian (saves Vagrant's guest detection, ~24 s
 * under TCG) and no synced folder (the image has neither rsync nor NFS; a box
 * must come up without them). Everything else is the user's Vagrantfile's.
 */
export function boxVagrantfile(): string {
  return [
    'Vagrant.configure("2") do |config|',
    '  config.vm.guest = :debian',
    '  config.vm.synced_folder ".", "/vagrant", disabled: true',
    '  config.vm.provider :libvirt do |libvirt|',
    '    libvirt.disk_bus = "virtio"',
    '  end',
    'end',
    '',
  ].join('\n');
}

const SUDOERS = 'vagrant ALL=(ALL) NOPASSWD:ALL\n';
const CLOUD_INIT_CONFIG = [
  '# A Vagrant box has no metadata service: cloud-init runs with the None datasource',
  '# (DHCP on the first NIC, per-machine sshd host keys) and creates no default user.',
  'datasource_list: [ None ]',
  'users: []',
  '',
].join('\n');

export async function ensureStandardVagrantBox(onProgress: (line: string) => void = () => {}): Promise<StandardVagrantBox> {
  const definition = getCloudImageDefinition(BASE_IMAGE);
  const kernel = await resolveCloudKernel(definition, onProgress);
  const vagrant = await candidatePackage('vagrant');
  const recipe = {
    ...(await cloudDiskRecipe(definition, kernel)),
    box: STANDARD_BOX_NAME,
    vagrantPackage: vagrant,
    boxSources: await hashSourceTrees(['harness/images/cloud/build-vagrant-box.ts']),
  };
  const started = Date.now();
  const artifact = await ensureCached(join('images', 'cloud', 'vagrant', STANDARD_BOX_NAME), recipe, async (dir) => {
    const keys = await vagrantInsecureKeys(vagrant, dir);
    await buildCloudDisk(definition, kernel, dir, onProgress, {
      name: STANDARD_BOX_NAME,
      finish: (rootfs) => addVagrantUser(rootfs, keys.publicKey),
    });
    await packBox(dir, STANDARD_BOX_NAME);
  });
  if (artifact.built) onProgress(`${STANDARD_BOX_NAME}: box built in ${((Date.now() - started) / 1000).toFixed(0)} s: ${artifact.dir}`);
  return {
    name: STANDARD_BOX_NAME,
    dir: artifact.dir,
    box: join(artifact.dir, `${STANDARD_BOX_NAME}.box`),
    insecurePrivateKey: join(artifact.dir, 'vagrant-insecure-key'),
    kernelRelease: kernel.release,
    built: artifact.built,
  };
}

/** Vagrant's own key pair, as Debian's vagrant package ships it (keys/vagrant{,.pub} in the gem). */
async function vagrantInsecureKeys(vagrant: DebianPackage, dir: string): Promise<{ publicKey: string }> {
  const work = await mkdtemp(join(tmpdir(), 'vagrant-deb-'));
  try {
    await extractDeb(await downloadDeb(vagrant, work), join(work, 'root'));
    const gems = join(work, 'root/usr/share/rubygems-integration/all/gems');
    const gem = (await readdir(gems)).find((name) => /^vagrant-\d/.test(name));
    if (!gem) throw new Error(`no vagrant gem in ${vagrant.name} ${vagrant.version}`);
    const keys = join(gems, gem, 'keys');
    await writeFile(join(dir, 'vagrant-insecure-key'), await readFile(join(keys, 'vagrant')), { mode: 0o600 });
    return { publicKey: await readFile(join(keys, 'vagrant.pub'), 'utf8') };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function addVagrantUser(rootfs: string, publicKey: string): Promise<void> {
  await runHostCommand('chroot', [rootfs, 'useradd', '--create-home', '--shell', '/bin/bash', '--user-group', 'vagrant']);
  const ids = await runHostCommand('chroot', [rootfs, 'id', '-u', 'vagrant']);
  const uid = Number(ids.stdout.trim());
  const ssh = join(rootfs, 'home/vagrant/.ssh');
  await mkdir(ssh, { mode: 0o700 });
  await writeFile(join(ssh, 'authorized_keys'), publicKey.endsWith('\n') ? publicKey : `${publicKey}\n`, { mode: 0o600 });
  // useradd --user-group: the group has the user's id.
  await chown(ssh, uid, uid);
  await chown(join(ssh, 'authorized_keys'), uid, uid);
  await writeFile(join(rootfs, 'etc/sudoers.d/vagrant'), SUDOERS, { mode: 0o440 });
  await chmod(join(rootfs, 'etc/sudoers.d/vagrant'), 0o440);
  await writeFile(join(rootfs, 'etc/cloud/cloud.cfg.d/90_vagrant.cfg'), CLOUD_INIT_CONFIG);
}

/**
 * `<dir>/<name>.box` from `<dir>/base.qcow2`: metadata.json, Vagrantfile, and the qcow2
 * renamed box.img inside the tar (no 1 GB copy), in BOX_MEMBERS' order. Returns the box's path.
 */
export async function packBox(dir: string, name: string): Promise<string> {
  const info = JSON.parse((await runHostCommand('qemu-img', ['info', '--output=json', join(dir, 'base.qcow2')])).stdout) as {
    'virtual-size': number;
  };
  await writeFile(join(dir, 'metadata.json'), `${JSON.stringify(boxMetadata(info['virtual-size']))}\n`);
  await writeFile(join(dir, 'Vagrantfile'), boxVagrantfile());
  await runHostCommand(
    'tar',
    ['-cf', join(dir, `${name}.box`), '-C', dir, '--transform', 's,^base\\.qcow2$,box.img,', 'metadata.json', 'Vagrantfile', 'base.qcow2'],
    { timeoutMs: 600_000 },
  );
  // The tar holds the disk now; keep one copy.
  await rm(join(dir, 'base.qcow2'));
  return join(dir, `${name}.box`);
}
