import { describe, expect, it } from 'vitest';
import { DEBIAN_IMAGES, getDebianImageDefinition, UnknownImageError } from '../../../harness/images/debian/debian-image-catalog.ts';
import { buildMmdebstrapArgs } from '../../../harness/images/debian/mmdebstrap-command.ts';
import { privateListOptions as aptOptions } from '../../../harness/kernels/suite-lists.ts';

describe('the Debian full-OS images', () => {
  it('are Debian 11, 12 and 13 with their suites', () => {
    expect(DEBIAN_IMAGES.map((i) => [i.name, i.suite, i.kernelSeries])).toEqual([
      ['debian-11', 'bullseye', '5.10'],
      ['debian-12', 'bookworm', '6.1'],
      ['debian-13', 'trixie', '6.12'],
    ]);
  });

  it('carry the guides\' toolchain, both VIP methods, the backends, sshd and a DHCP client for eth0', () => {
    for (const image of DEBIAN_IMAGES) {
      expect(image.packages).toEqual(
        expect.arrayContaining(['gcc', 'make', 'libc6-dev', 'linux-image-amd64', 'linux-headers-amd64', 'ifupdown', 'netplan.io', 'python3', 'nginx', 'openssh-server', 'dkms']),
      );
      expect(image.packages.some((p) => p === 'isc-dhcp-client' || p === 'dhcpcd-base')).toBe(true);
    }
  });

  it('refuses an unknown image with the list of known ones', () => {
    expect(() => getDebianImageDefinition('centos-7')).toThrow(UnknownImageError);
    expect(() => getDebianImageDefinition('centos-7')).toThrow(/unknown image 'centos-7': this lab builds debian-11, debian-12, debian-13/);
  });
});

describe('buildMmdebstrapArgs', () => {
  const args = buildMmdebstrapArgs({
    image: getDebianImageDefinition('debian-12'),
    mirror: 'http://deb.debian.org/debian',
    rootfs: '/cache/x/rootfs',
    imageFilesDir: "/repo/images/debian-base",
    debCacheDir: '/cache/debs/bookworm',
  });

  it('builds a minbase root tree as root, suite, target and mirror last, then the pockets an updated system has', () => {
    expect(args.slice(0, 2)).toEqual(['--mode=root', '--variant=minbase']);
    expect(args.slice(-5)).toEqual([
      'bookworm',
      '/cache/x/rootfs',
      'http://deb.debian.org/debian',
      'deb http://deb.debian.org/debian bookworm-updates main',
      'deb http://deb.debian.org/debian-security bookworm-security main',
    ]);
    expect(args.find((a) => a.startsWith('--include='))).toContain('linux-headers-amd64');
  });

  it('puts the initramfs configuration in before any package (one small initrd), the rest after', () => {
    const essential = args.findIndex((a) => a.startsWith('--essential-hook=') && a.includes('/initramfs'));
    const rootfs = args.findIndex((a) => a.startsWith('--customize-hook=') && a.includes('/rootfs'));
    const customize = args.findIndex((a) => a.includes('customize.sh'));
    expect(essential).toBeGreaterThan(-1);
    expect(rootfs).toBeGreaterThan(essential);
    expect(customize).toBeGreaterThan(rootfs);
    expect(args[customize]).toBe(`--customize-hook=sh '/repo/images/debian-base/customize.sh' "$1" 'debian-12'`);
  });

  it('syncs downloaded .debs in from and out to the cache, keeping the essential set', () => {
    expect(args).toContain('--skip=essential/unlink');
    expect(args).toContain(`--setup-hook=sync-in '/cache/debs/bookworm' /var/cache/apt/archives/`);
    expect(args).toContain(`--customize-hook=sync-out /var/cache/apt/archives '/cache/debs/bookworm'`);
  });
});

describe('the per-suite apt index', () => {
  it('points apt at private lists and an empty dpkg status, so the host\'s packages never shadow the suite\'s', () => {
    const options = aptOptions('/cache/apt-index/trixie');
    expect(options).toContain('Dir::State::status=/cache/apt-index/trixie/status');
    expect(options).toContain('Dir::Etc::SourceList=/cache/apt-index/trixie/sources.list');
    expect(options).toContain('Dir::Etc::SourceParts=-');
  });
});
