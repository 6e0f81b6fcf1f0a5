import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { ChecksumMismatchError, verifySha256 } from '../images/checksum.ts';
import { BrokenImageError } from '../images/debian/disk-image.ts';
import { inspectDiskImage } from '../images/disk-format.ts';
import { DownloadError, ensureDownloadedImage } from '../images/download.ts';
import type { DiskImageTarget, VagrantBoxTarget } from '../machine/machine.ts';
import type { DiskBootSettings, ImageSource, OsProfile } from '../os/index.ts';
import { vipUserDataFor } from '../lab/full-os-conformance.ts';
import { UsageError } from './run-scenarios.ts';

/**
 * Disk images a run boots that the lab did not build: files named with
 * `--image-file`, and guide rows (`--image centos-7`) whose source a user's
 * toa-lab.config.json names. Every problem the harness can see before booting
 * is a usage error here (exit 2): a missing file, a row with nothing configured
 * (with the lines to add), a source kind this machine cannot fetch.
 */
export function diskImageFileTarget(path: string): DiskImageTarget | VagrantBoxTarget {
  const file = resolve(path);
  if (!existsSync(file)) throw new UsageError(`--image-file: no such file ${file}`);
  if (!statSync(file).isFile()) throw new UsageError(`--image-file: ${file} is not a file`);
  if (isVagrantBoxFile(file)) return { kind: 'vagrant-box', name: cellName(basename(file)), file, login: { user: 'vagrant', privateKeyFile: vagrantInsecureKey(file) } };
  return { kind: 'disk-image', name: cellName(basename(file)), file };
}

/** A .box is a tar (ustar magic at byte 257) — or gzipped (1f 8b) — named .box: never a disk image. */
function isVagrantBoxFile(file: string): boolean {
  if (!file.endsWith('.box')) return false;
  const head = Buffer.alloc(262);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  return head.toString('latin1', 257, 262) === 'ustar' || (head[0] === 0x1f && head[1] === 0x8b);
}

/**
 * How `vagrant up` gets into a standard box: the `vagrant` user with Vagrant's insecure
 * key, which Debian's vagrant package ships inside its gem; the harness uses the same file.
 */
export function vagrantInsecureKey(box: string): string {
  const gems = '/usr/share/rubygems-integration/all/gems';
  const gem = existsSync(gems) ? readdirSync(gems).find((name) => /^vagrant-\d/.test(name)) : undefined;
  const key = gem && join(gems, gem, 'keys', 'vagrant');
  if (!key || !existsSync(key)) {
    throw new UsageError(`${box} is a Vagrant box: it needs Vagrant and vagrant-libvirt (scripts/install-vagrant.sh), whose insecure key logs into it`);
  }
  return key;
}

/**
 * A guide row's configured image (the first usable source), or a usage error saying what
 * to configure. The source's own settings come along: its login, firmware, and the UCloud
 * guide's UserData form for the VIP (`vipForm: "cloud-init"`, with the row's method).
 */
export function configuredRowTarget(profile: OsProfile, configFile: string | undefined): DiskImageTarget {
  const sources = profile.images;
  const local = sources.find((s): s is Extract<ImageSource, { kind: 'local-image' }> => s.kind === 'local-image');
  if (local) {
    const file = resolve(local.path);
    if (!existsSync(file)) throw new UsageError(`${profile.id}: the configured local-image ${file} does not exist${configFile ? ` (${configFile})` : ''}`);
    return { kind: 'disk-image', name: profile.id, configRow: profile.id, file, ...(local.sha256 && { sha256: local.sha256 }), ...bootSettings(profile, local, configFile) };
  }
  const cloud = sources.find((s): s is Extract<ImageSource, { kind: 'cloud-image' }> => s.kind === 'cloud-image');
  // Only a user's config makes a row's cloud image ours to fetch: the built-in URLs are unverified (sha256 null).
  if (cloud && configFile) {
    return { kind: 'disk-image', name: profile.id, configRow: profile.id, file: '', download: { url: cloud.url, sha256: cloud.sha256 }, ...bootSettings(profile, cloud, configFile) };
  }
  const said = sources.map((s) => s.kind).join(', ');
  throw new UsageError(
    `${profile.id} (${profile.displayName}) has no image on this machine${said ? ` (its sources: ${said}; ` +
      'local-image files boot, cloud-image URLs named in your config are downloaded once and verified; Vagrant boxes of other OSes need the vagrant provider and a libvirt box)' : ''}.\n` +
      `Add one to ${configFile ?? 'toa-lab.config.json'} (or pass --config FILE), e.g.\n` +
      `  { "images": { "${profile.id}": [{ "kind": "local-image", "path": "/srv/images/${profile.id}.qcow2" }] } }\n` +
      'or run the file directly: toa-lab run --image-file /srv/images/IMAGE.qcow2',
  );
}

/** What a config source says about booting and entering its disk, checked against its row. */
function bootSettings(profile: OsProfile, source: DiskBootSettings, configFile: string | undefined): Partial<DiskImageTarget> {
  const where = `${profile.id} in ${configFile ?? 'toa-lab.config.json'}`;
  if (source.login && !existsSync(source.login.privateKeyFile)) throw new UsageError(`${where}: the login's key ${resolve(source.login.privateKeyFile)} does not exist`);
  const methods = profile.vip.map((v) => v.method);
  if (source.vipMethod && !methods.includes(source.vipMethod)) {
    throw new UsageError(`${where}: vipMethod ${source.vipMethod} is not one of the row's (${methods.join(', ')})`);
  }
  const settings: Partial<DiskImageTarget> = {
    ...(source.login && { login: { user: source.login.user, privateKeyFile: resolve(source.login.privateKeyFile) } }),
    ...(source.firmware && { firmware: source.firmware }),
  };
  if (source.vipForm !== 'cloud-init') return settings;
  const method = source.vipMethod ?? methods[0]!;
  const script = vipUserDataFor(profile.id, method);
  if (!script) throw new UsageError(`${where}: the guide has no cloud-init UserData form for the row's VIP method ${method}`);
  return { ...settings, vipUserData: { row: profile.id, method, script } };
}

/**
 * What can be known of a disk before booting it, as usage errors (exit 2, nothing started):
 * a file that is no disk image or a broken one (qemu-img's words), a checksum that does not match.
 */
export async function checkDiskImage(target: DiskImageTarget, onProgress: (line: string) => void = () => {}): Promise<DiskImageTarget> {
  try {
    const file = target.download ? (await ensureDownloadedImage(target.download.url, target.download.sha256, onProgress)).file : target.file;
    const info = await inspectDiskImage(file, target.format);
    if (target.sha256) await verifySha256(file, target.sha256);
    return { ...target, file, format: info.format };
  } catch (error) {
    if (error instanceof BrokenImageError || error instanceof ChecksumMismatchError || error instanceof DownloadError) throw new UsageError(`${target.name}: ${error.message}`);
    throw error;
  }
}

/** A cell name from a file name: letters, digits, dots and dashes (reports and file names use it). */
function cellName(fileName: string): string {
  return fileName.replace(/\.(qcow2|img|raw|vmdk|vhdx|box)$/i, '').replace(/[^\w.-]+/g, '-') || 'disk-image';
}
