import { describe, expect, it } from 'vitest';
import {
  GUIDE_PROFILES,
  LAB_PROFILES,
  mergeUserImages,
  OS_PROFILES,
  parseUserImageConfig,
  profileById,
  pythonCommand,
  type OsProfile,
} from '../../../harness/os/index.ts';

/** The OS rows of the two guides, as they name them, with the kernel series they give. */
const HUAWEI_ROWS: Array<[string, string, string]> = [
  ['CentOS 6.8', 'centos-6.8', '2.6.32'],
  ['SUSE 11 SP3', 'suse-11-sp3', '3.0.76'],
  ['CentOS 7', 'centos-7', '3.10.0'],
  ['CentOS 7.2', 'centos-7.2', '3.10.0'],
  ['Ubuntu 16.04.3', 'ubuntu-16.04', '4.4.0'],
  ['Ubuntu 18.04', 'ubuntu-18.04', '4.15.0'],
  ['Ubuntu 20.04', 'ubuntu-20.04', '5.4.0'],
  ['OpenSUSE 42.2', 'opensuse-42.2', '4.4.36'],
  ['Debian 8.2.0', 'debian-8.2', '3.16.0'],
];
const UCLOUD_ROWS: Array<[string, string[]]> = [
  ['CentOS 7 and below', ['centos-6.8', 'centos-7', 'centos-7.2']],
  ['CentOS 8 and above', ['centos-8']],
  ['Ubuntu 16.04', ['ubuntu-16.04']],
  ['Ubuntu 18.04 / 20.04', ['ubuntu-18.04', 'ubuntu-20.04']],
  ['Debian 10.0', ['debian-10']],
  ['Rocky Linux 8.5', ['rocky-8.5']],
];

describe('OS profiles', () => {
  it('has a profile for every Huawei guide row, with its kernel series', () => {
    for (const [row, id, kernel] of HUAWEI_ROWS) {
      const profile = profileById(id);
      expect(profile.kernelSeries, row).toBe(kernel);
      expect(profile.guides, row).toContain('huawei');
    }
  });

  it('has a profile for every UCloud guide row, with that row\'s VIP method as default', () => {
    const expectedMethod: Record<string, string> = {
      'CentOS 7 and below': 'ifcfg',
      'CentOS 8 and above': 'ifcfg-network-scripts',
      'Ubuntu 16.04': 'interfaces-d',
      'Ubuntu 18.04 / 20.04': 'netplan',
      'Debian 10.0': 'interfaces-d',
      'Rocky Linux 8.5': 'ifcfg-network-scripts',
    };
    for (const [row, ids] of UCLOUD_ROWS) {
      for (const id of ids) expect(profileById(id).vip[0].method, `${row}: ${id}`).toBe(expectedMethod[row]);
    }
  });

  it('has the lab\'s offline Debian 11/12/13 images with both VIP methods', () => {
    expect(LAB_PROFILES.map((p) => [p.id, p.kernelSeries, p.images])).toEqual([
      ['debian-11', '5.10', [{ kind: 'offline-debian', suite: 'bullseye' }]],
      ['debian-12', '6.1', [{ kind: 'offline-debian', suite: 'bookworm' }]],
      ['debian-13', '6.12', [{ kind: 'offline-debian', suite: 'trixie' }]],
    ]);
    for (const p of LAB_PROFILES) expect(p.vip.map((v) => v.method)).toEqual(['interfaces-d', 'netplan']);
  });

  it('has unique ids and one list in guide order then lab order', () => {
    expect(new Set(OS_PROFILES.map((p) => p.id)).size).toBe(OS_PROFILES.length);
    expect(OS_PROFILES).toEqual([...GUIDE_PROFILES, ...LAB_PROFILES]);
    expect(GUIDE_PROFILES).toHaveLength(12);
  });

  it('names the toolchain packages as the guide does for each package manager', () => {
    const expected: Record<OsProfile['packageManager'], string> = {
      yum: 'kernel-devel-$(uname -r)',
      dnf: 'kernel-devel-$(uname -r)',
      apt: 'linux-headers-$(uname -r)',
      zypper: 'kernel-default-devel',
    };
    for (const p of OS_PROFILES) {
      expect(p.toolchain.packages, p.id).toEqual(['gcc', 'make']);
      if (p.toaInstall === 'patched-kernel') expect(p.toolchain.kernelDevel, p.id).toBeNull();
      else expect(p.toolchain.kernelDevel, p.id).toBe(expected[p.packageManager]);
    }
    expect(OS_PROFILES.filter((p) => p.packageManager === 'zypper').map((p) => p.id)).toEqual(['suse-11-sp3', 'opensuse-42.2']);
    expect(OS_PROFILES.filter((p) => p.packageManager === 'dnf').map((p) => p.id)).toEqual(['centos-8', 'rocky-8.5']);
  });

  it('takes the patched-kernel path on CentOS 6.8 only', () => {
    expect(OS_PROFILES.filter((p) => p.toaInstall === 'patched-kernel').map((p) => p.id)).toEqual(['centos-6.8']);
  });

  it('runs the guide\'s Python 2 server where python is 2, http.server elsewhere', () => {
    const python2 = ['centos-6.8', 'suse-11-sp3', 'centos-7', 'centos-7.2', 'ubuntu-16.04', 'debian-8.2'];
    for (const p of OS_PROFILES) {
      expect(pythonCommand(p, 80), p.id).toBe(python2.includes(p.id) ? 'python -m SimpleHTTPServer 80' : 'python3 -m http.server 80');
    }
  });

  it('autoloads with the guide\'s toa.modules on EL6/EL7 and modules-load.d on systemd rows', () => {
    const byKind = (kind: string) => OS_PROFILES.filter((p) => p.autoload.kind === kind).map((p) => p.id);
    expect(byKind('sysconfig-modules')).toEqual(['centos-6.8', 'centos-7', 'centos-7.2']);
    expect(byKind('startup-script')).toEqual(['suse-11-sp3']);
    for (const id of byKind('modules-load-d')) expect(profileById(id).init, id).toBe('systemd');
  });

  it('never carries a guessed checksum: each is null (unverified) or 64 hex digits', () => {
    for (const p of OS_PROFILES) {
      expect(p.images.length, p.id).toBeGreaterThan(0);
      for (const source of p.images) {
        if (source.kind === 'cloud-image') expect(source.sha256, p.id).toBeNull();
        if (source.kind === 'cloud-image') expect(source.url, p.id).toMatch(/^https:\/\//);
      }
    }
  });

  it('says why a profile departs from the guides where it fills a gap', () => {
    for (const id of ['suse-11-sp3', 'opensuse-42.2']) expect(profileById(id).notes?.join(' '), id).toMatch(/no SUSE row/);
    expect(() => profileById('centos-9')).toThrow(/unknown OS profile 'centos-9' \(known: centos-6.8, /);
  });
});

describe('user image config', () => {
  const config = parseUserImageConfig({
    images: {
      'centos-7': [{ kind: 'cloud-image', url: 'https://mirror.example/CentOS-7.qcow2', sha256: 'AB'.repeat(32) }],
      'suse-11-sp3': [{ kind: 'local-image', path: '/srv/images/sles11sp3.qcow2' }],
      'rocky-8.5': [{ kind: 'vagrant-box', box: 'generic/rocky8', version: '3.6.8' }],
    },
  });

  it('replaces the named profiles\' sources and leaves the others alone', () => {
    const merged = mergeUserImages(OS_PROFILES, config);
    expect(profileById('centos-7', merged).images).toEqual([
      { kind: 'cloud-image', url: 'https://mirror.example/CentOS-7.qcow2', sha256: 'ab'.repeat(32) },
    ]);
    expect(profileById('suse-11-sp3', merged).images).toEqual([{ kind: 'local-image', path: '/srv/images/sles11sp3.qcow2' }]);
    expect(profileById('rocky-8.5', merged).images).toEqual([{ kind: 'vagrant-box', box: 'generic/rocky8', version: '3.6.8' }]);
    expect(profileById('debian-12', merged)).toBe(profileById('debian-12'));
    // The built-in rows are not mutated.
    expect(profileById('centos-7').images[0]).toMatchObject({ kind: 'vagrant-box', box: 'centos/7' });
  });

  it('rejects unknown profile ids instead of silently running the default image', () => {
    expect(() => mergeUserImages(OS_PROFILES, { images: { 'centos7': [{ kind: 'vagrant-box', box: 'x/y' }] } })).toThrow(
      /unknown profiles: centos7 \(known: centos-6.8/,
    );
  });

  it('names the offending field in a malformed config', () => {
    expect(() => parseUserImageConfig({})).toThrow(/expected \{ "images"/);
    expect(() => parseUserImageConfig({ images: { 'centos-7': [] } })).toThrow(/images.centos-7 must be a non-empty array/);
    expect(() => parseUserImageConfig({ images: { 'centos-7': [{ kind: 'cloud-image', url: 'https://x', sha256: 'abc' }] } })).toThrow(
      /images.centos-7\[0\].sha256 must be 64 hex digits or null/,
    );
    expect(() => parseUserImageConfig({ images: { 'centos-7': [{ kind: 'offline-debian', suite: 'bookworm' }] } })).toThrow(
      /images.centos-7\[0\].kind must be vagrant-box, cloud-image or local-image/,
    );
    expect(() => parseUserImageConfig({ images: { 'centos-7': [{ kind: 'vagrant-box' }] } })).toThrow(/images.centos-7\[0\].box must be/);
  });

  it("carries a disk's own login, firmware and the guide's UserData form for the VIP", () => {
    const parsed = parseUserImageConfig({
      images: {
        'debian-12': [{ kind: 'local-image', path: '/srv/box.img', login: { user: 'vagrant', privateKeyFile: '/srv/vagrant.key' }, firmware: 'bios' }],
        'ubuntu-20.04': [{ kind: 'cloud-image', url: 'https://mirror.example/focal.img', sha256: null, vipForm: 'cloud-init', vipMethod: 'netplan' }],
      },
    });
    expect(parsed.images['debian-12']).toEqual([
      { kind: 'local-image', path: '/srv/box.img', login: { user: 'vagrant', privateKeyFile: '/srv/vagrant.key' }, firmware: 'bios' },
    ]);
    expect(parsed.images['ubuntu-20.04']).toEqual([{ kind: 'cloud-image', url: 'https://mirror.example/focal.img', sha256: null, vipForm: 'cloud-init', vipMethod: 'netplan' }]);
  });

  it('names the offending field of a login, a firmware or a VIP form', () => {
    const one = (entry: Record<string, unknown>) => () => parseUserImageConfig({ images: { 'debian-12': [{ kind: 'local-image', path: '/x.qcow2', ...entry }] } });
    expect(one({ login: { user: 'vagrant' } })).toThrow(/images.debian-12\[0\].login.privateKeyFile must be a non-empty string/);
    expect(one({ login: 'vagrant' })).toThrow(/images.debian-12\[0\].login.user must be/);
    expect(one({ firmware: 'coreboot' })).toThrow(/images.debian-12\[0\].firmware must be one of bios, uefi \(found "coreboot"\)/);
    expect(one({ vipForm: 'userdata' })).toThrow(/vipForm must be one of files, cloud-init/);
    expect(one({ vipMethod: 'nmcli' })).toThrow(/vipMethod must be one of ifcfg, ifcfg-network-scripts, interfaces-d, netplan, ip-addr/);
    // The UserData travels in the run's seed, which an image entered with its own login does not get.
    expect(one({ vipForm: 'cloud-init', login: { user: 'u', privateKeyFile: '/k' } })).toThrow(/with a login of its own the image gets no seed/);
  });
});
