import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { ensureCached } from '../../cache/artifact-cache.ts';
import { sha256File } from '../../images/checksum.ts';
import { runHostCommand } from '../../exec/run-host-command.ts';
import type { DebianImage } from '../../images/debian/build-debian-image.ts';
import { FULL_OS_KERNEL_COMMAND_LINE } from '../full-os-command-line.ts';
import { fillTemplate, readTemplate, rubyString } from './vagrantfile.ts';
import { runVagrant } from './vagrant-cli.ts';

/**
 * One of our offline Debian images as a vagrant-libvirt box, and that box
 * added to Vagrant. A libvirt box is a tar of:
 * - box.img: the image's qcow2 (its base.qcow2, renamed inside the tar, not copied);
 * - metadata.json: `{"provider":"libvirt","format":"qcow2","virtual_size":GiB}`;
 * - Vagrantfile: direct kernel boot of the two files below (the image has no boot loader);
 * - vmlinuz, initrd.img: the image's kernel and initrd.
 * Cached under `<cache>/vagrant-boxes/<image>/<hash>`, the hash covering the
 * image's own recipe hash and the box's Vagrantfile; the box name carries the
 * same hash, so a rebuilt image becomes a new box, never a stale one.
 */
export { FULL_OS_KERNEL_COMMAND_LINE };
export const BOX_VAGRANTFILE_TEMPLATE = 'vagrant/box/Vagrantfile.template';

export interface LibvirtBoxMetadata {
  provider: 'libvirt';
  format: 'qcow2';
  /** GiB (vagrant-libvirt reads whole gigabytes and sizes the domain's volume from it). */
  virtual_size: number;
}

export function libvirtBoxMetadata(virtualSizeBytes: number): LibvirtBoxMetadata {
  if (!Number.isSafeInteger(virtualSizeBytes) || virtualSizeBytes <= 0) throw new Error(`bad virtual size ${virtualSizeBytes}`);
  return { provider: 'libvirt', format: 'qcow2', virtual_size: Math.ceil(virtualSizeBytes / 2 ** 30) };
}

export function renderBoxVagrantfile(kernelCommandLine = FULL_OS_KERNEL_COMMAND_LINE, template = readTemplate(BOX_VAGRANTFILE_TEMPLATE)): string {
  return fillTemplate(template, { cmdLine: rubyString(kernelCommandLine) });
}

export interface LibvirtBox {
  /** The name in `vagrant box list`, e.g. `toa-lab-debian-12-550bea00b7ff66ef-1a2b3c4d`. */
  name: string;
  /** The .box file (tar). */
  file: string;
  /** True when this call packaged the .box (not only added it). */
  packaged: boolean;
  /** True when this call ran `vagrant box add`. */
  added: boolean;
}

type Image = Pick<DebianImage, 'name' | 'dir' | 'disk' | 'kernel' | 'initrd'>;

export async function ensureLibvirtBox(image: Image, log: (line: string) => void = () => {}): Promise<LibvirtBox> {
  const boxVagrantfile = renderBoxVagrantfile();
  const recipe = {
    image: image.name,
    // The image folder is named by the image's recipe hash: a rebuilt image is a new box.
    imageHash: basename(image.dir),
    boxVagrantfile: createHash('sha256').update(boxVagrantfile).digest('hex').slice(0, 16),
  };
  const artifact = await ensureCached(join('vagrant-boxes', image.name), recipe, async (dir) => {
    const started = Date.now();
    const info = JSON.parse((await runHostCommand('qemu-img', ['info', '--output=json', image.disk])).stdout) as { 'virtual-size': number };
    await writeFile(join(dir, 'metadata.json'), `${JSON.stringify(libvirtBoxMetadata(info['virtual-size']))}\n`);
    await writeFile(join(dir, 'Vagrantfile'), boxVagrantfile);
    // The image's files go in from where they are (renamed in the tar), saving a 1 GB copy.
    await runHostCommand(
      'tar',
      [
        '-cf', join(dir, 'box.box'),
        '-C', dir, 'metadata.json', 'Vagrantfile',
        '-C', image.dir,
        '--transform', `s,^${basename(image.disk)}$,box.img,`,
        basename(image.disk), basename(image.kernel), basename(image.initrd),
      ],
      { timeoutMs: 600_000 },
    );
    log(`${image.name}: libvirt box packaged in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });
  const name = `toa-lab-${image.name}-${artifact.hash}`;
  const file = join(artifact.dir, 'box.box');
  let added = false;
  if (!isBoxAdded(name)) {
    const started = Date.now();
    await runVagrant(['box', 'add', '--name', name, '--provider', 'libvirt', file], { timeoutMs: 600_000 });
    log(`${image.name}: vagrant box add ${name} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    added = true;
  }
  return { name, file, packaged: artifact.built, added };
}

/**
 * A user's box file added to Vagrant under a name from its content (`toa-lab-box-<sha256
 * prefix>`): the same file is added once, a changed file becomes a new box. Refused with
 * the reason when it is not a libvirt box (metadata.json's provider).
 */
export async function addBoxFile(file: string, log: (line: string) => void = () => {}): Promise<LibvirtBox> {
  const listing = await runHostCommand('tar', ['-xOf', file, './metadata.json'], { check: false }).then((r) =>
    r.exitCode === 0 ? r : runHostCommand('tar', ['-xOf', file, 'metadata.json'], { check: false }),
  );
  if (listing.exitCode !== 0) throw new Error(`${file} is not a Vagrant box: no metadata.json in it (${listing.stderr.trim()})`);
  const metadata = JSON.parse(listing.stdout) as { provider?: string };
  if (metadata.provider !== 'libvirt') throw new Error(`${file} is a box for '${metadata.provider}', not libvirt: the vagrant provider here is vagrant-libvirt`);
  const name = `toa-lab-box-${(await sha256File(file)).slice(0, 16)}`;
  let added = false;
  if (!isBoxAdded(name)) {
    const started = Date.now();
    await runVagrant(['box', 'add', '--name', name, '--provider', 'libvirt', file], { timeoutMs: 600_000 });
    log(`vagrant box add ${name} (${basename(file)}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    added = true;
  }
  return { name, file, packaged: false, added };
}

/** Where `vagrant box add` puts a local (version 0) libvirt box. */
export function boxDirectory(name: string, vagrantHome = process.env.VAGRANT_HOME ?? join(homedir(), '.vagrant.d')): string {
  return join(vagrantHome, 'boxes', name.replaceAll('/', '-VAGRANTSLASH-'), '0', 'libvirt');
}

function isBoxAdded(name: string): boolean {
  return existsSync(join(boxDirectory(name), 'metadata.json')) && existsSync(join(boxDirectory(name), 'box.img'));
}
