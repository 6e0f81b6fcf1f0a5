import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { writeNoCloudSeed } from '../images/cloud/nocloud-seed.ts';
import { inspectDiskImage } from '../images/disk-format.ts';
import { detectFirmware } from '../images/partition-table.ts';
import type { RunSession } from '../lifecycle/run-session.ts';
import { DEFAULT_REPOSITORY_HOSTS, startPackageProxy } from '../provision/package-proxy.ts';
import { generateSshKeyPair, writeSshKeyPair } from '../remote/ssh-key-pair.ts';
import type { DiskImageFiles } from '../vm/full-os-vm.ts';
import type { GuestForward } from '../vm/qemu/qemu-args.ts';
import type { DiskImageTarget } from './machine.ts';

/**
 * Everything a user's disk needs before QEMU starts, with nothing baked into
 * the image: its format and firmware (detected unless the config says), a
 * package source (the run's proxy, reached through a guest forward), and a way
 * in — a cloud-init NoCloud seed creating a per-run user with the run's key and
 * passwordless sudo (what every listed distro's cloud image reads), or the
 * user's own login from the config.
 */
export interface PreparedDiskImage {
  image: DiskImageFiles;
  guestForwards: GuestForward[];
  login: { user: string; privateKey: string };
  /** What to tell the user when sshd keeps refusing that login. */
  refusedLoginAdvice: string;
  /** The run's package proxy as the guest reaches it, when no seed told the guest (a login of its own): set after login. */
  proxyToConfigure?: string;
}

/** How long sshd may refuse the login before the run says why (the seed's user exists before sshd starts). */
export const REFUSED_LOGIN_GRACE_MS = 60_000;

export async function prepareDiskImage(session: RunSession, target: DiskImageTarget, keyDir: string, log: (line: string) => void): Promise<PreparedDiskImage> {
  const info = await inspectDiskImage(target.file, target.format);
  const scratch = await session.subdir('disk-probe');
  const firmware = target.firmware ? { firmware: target.firmware, why: 'as configured' } : await detectFirmware(target.file, info.format, scratch);
  log(`${target.name}: ${info.format} disk, ${(info.virtualSize / 2 ** 30).toFixed(1)} GiB, ${firmware.firmware} (${firmware.why})`);

  const proxy = await startPackageProxy(session, target.repositoryHosts ?? DEFAULT_REPOSITORY_HOSTS);
  log(`${target.name}: packages through ${proxy.guestUrl} (log ${proxy.log})`);
  const image: DiskImageFiles = { kind: 'disk-image', name: target.name, disk: target.file, format: info.format, firmware: firmware.firmware };

  if (target.login) {
    if (!existsSync(target.login.privateKeyFile)) throw new Error(`${target.name}: the configured SSH key ${target.login.privateKeyFile} does not exist`);
    return {
      image,
      guestForwards: [proxy.forward],
      login: { user: target.login.user, privateKey: readFileSync(target.login.privateKeyFile, 'utf8') },
      proxyToConfigure: proxy.guestUrl,
      refusedLoginAdvice: `the configured login (user ${target.login.user}, key ${target.login.privateKeyFile}) does not get into ${target.name}: check its "login" in toa-lab.config.json`,
    };
  }
  // A per-run user: nothing a previous run (or the image's maker) set up can stand in for it.
  const user = `toalab${randomBytes(3).toString('hex')}`;
  const key = generateSshKeyPair(`toa-lab ${target.name} run key`);
  await writeSshKeyPair(keyDir, key);
  const seed = await writeNoCloudSeed({
    dir: await session.subdir('seed'),
    instanceId: `toa-lab-${randomBytes(4).toString('hex')}`,
    hostname: 'toa-lab-guest',
    user: { name: user, publicKey: key.publicLine },
    aptProxy: proxy.guestUrl,
    ...(target.vipUserData && { userDataScript: target.vipUserData.script }),
  });
  log(`${target.name}: cloud-init seed ${seed} (user ${user}, passwordless sudo${target.vipUserData ? `; the ${target.vipUserData.row} row's VIP UserData (${target.vipUserData.method})` : ''})`);
  return { image: { ...image, seed }, guestForwards: [proxy.forward], login: { user, privateKey: key.privatePem }, refusedLoginAdvice: noSeedAdvice(target) };
}

/**
 * sshd is up but the seed's user never came: the image has no cloud-init, or one that
 * reads other datasources only (a Vagrant box's `datasource_list: [ None ]`). Say what
 * to add to the config instead of waiting out the first-boot timeout.
 */
function noSeedAdvice(target: DiskImageTarget): string {
  const why =
    "the image did not take the run's cloud-init NoCloud seed (it has no cloud-init, or its cloud-init reads other datasources only, " +
    "as a Vagrant box's does) and no login is configured for it. Name a user with passwordless sudo and its key";
  const login = '"login": { "user": "vagrant", "privateKeyFile": "/path/to/its/key" }';
  if (target.configRow) return `${why}: add ${login} to its entry for ${target.configRow} in toa-lab.config.json`;
  return (
    `${why} in toa-lab.config.json, e.g. { "images": { "ROW": [{ "kind": "local-image", "path": "${target.file}", ${login} }] } }, ` +
    'and run toa-lab run --image ROW (ROW: its guide row, from toa-lab images list)'
  );
}
