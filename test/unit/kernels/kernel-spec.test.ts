import { describe, expect, it } from 'vitest';
import { kernelsFromStanzas, pickKernel, KernelNotServedError } from '../../../harness/kernels/archive-kernels.ts';
import { sourceLines, suiteAptOptions, suiteInfo } from '../../../harness/kernels/debian-suite.ts';
import { DEFAULT_KERNELS } from '../../../harness/kernels/default-kernels.ts';
import { formatKernelSpec, kernelCellName, KernelSpecError, parseKernelSpec } from '../../../harness/kernels/kernel-spec.ts';

describe('kernel specs', () => {
  it('parse suite, flavour and version', () => {
    expect(parseKernelSpec('sid')).toEqual({ suite: 'sid', flavour: 'generic' });
    expect(parseKernelSpec('bookworm:cloud')).toEqual({ suite: 'bookworm', flavour: 'cloud' });
    expect(parseKernelSpec('bookworm=6.1.176-1')).toEqual({ suite: 'bookworm', flavour: 'generic', version: '6.1.176-1' });
    expect(parseKernelSpec('trixie-backports:rt=7.2')).toEqual({ suite: 'trixie-backports', flavour: 'rt', version: '7.2' });
  });

  it('refuse unknown suites and flavours with the known ones', () => {
    expect(() => parseKernelSpec('buster')).toThrow(KernelSpecError);
    expect(() => parseKernelSpec('buster')).toThrow(/known: bullseye/);
    expect(() => parseKernelSpec('sid:lowlatency')).toThrow(/unknown flavour 'lowlatency'/);
    expect(() => parseKernelSpec('sid=')).toThrow(KernelSpecError);
  });

  it('round-trip through their text form', () => {
    for (const text of ['sid', 'bookworm:cloud', 'bookworm=6.1.176-1', 'trixie-backports:rt=7.3.4-1~bpo13+1']) {
      expect(formatKernelSpec(parseKernelSpec(text))).toBe(text);
    }
  });

  it('name cells that never collide', () => {
    const specs = [
      'sid', 'sid:cloud', 'sid:rt', 'bookworm', 'bookworm:cloud', 'bookworm=6.1.176-1', 'bookworm:cloud=6.1.176-1',
      'bookworm-security', 'trixie', 'trixie-backports', 'trixie-backports=7.2', 'trixie-backports=7.3', 'experimental',
    ].map(parseKernelSpec);
    const names = specs.map(kernelCellName);
    expect(new Set(names).size).toBe(names.length);
    expect(kernelCellName(parseKernelSpec('bookworm:cloud'))).toBe('microvm-bookworm-cloud');
    expect(kernelCellName(parseKernelSpec('bookworm=6.1.176-1'))).toBe('microvm-bookworm-6.1.176-1');
    expect(kernelCellName(parseKernelSpec('trixie-backports=7.3.4-1~bpo13+1'))).toBe('microvm-trixie-backports-7.3.4-1_bpo13+1');
  });

  it('the default kernels are named apart from the three micro-VM suites', () => {
    const names = DEFAULT_KERNELS.map(kernelCellName);
    for (const suite of ['bullseye', 'bookworm', 'trixie']) expect(names).not.toContain(`microvm-${suite}`);
  });
});

describe('suites', () => {
  it('pockets are built on their release, security lives in its own archive', () => {
    expect(suiteInfo('trixie-backports')).toMatchObject({ base: 'trixie', archive: 'debian', rolling: false });
    expect(suiteInfo('bookworm-security')).toMatchObject({ base: 'bookworm', archive: 'debian-security' });
    expect(suiteInfo('experimental')).toMatchObject({ base: 'sid', rolling: true });
    expect(sourceLines('trixie-backports')).toEqual([
      'deb http://deb.debian.org/debian trixie main',
      'deb http://deb.debian.org/debian trixie-backports main',
    ]);
    expect(sourceLines('bookworm-security')[1]).toBe('deb http://deb.debian.org/debian-security bookworm-security main');
  });

  it('only the rolling suites (expired Release files here) turn off Check-Valid-Until', () => {
    expect(suiteAptOptions('sid')).toEqual(['-o', 'Acquire::Check-Valid-Until=false']);
    expect(suiteAptOptions('forky')).toEqual(['-o', 'Acquire::Check-Valid-Until=false']);
    expect(suiteAptOptions('experimental')).toEqual(['-o', 'Acquire::Check-Valid-Until=false']);
    expect(suiteAptOptions('trixie-backports')).toEqual([]);
    expect(suiteAptOptions('bookworm')).toEqual([]);
  });
});

const SHOW = `Package: linux-image-7.2.13+deb14-amd64
Version: 7.2.13-1
Depends: dracut | initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool, linux-base-7.2.13+deb14-amd64 (= 7.2.13-1), linux-binary-7.2.13+deb14-amd64 (= 7.2.13-1), linux-modules-7.2.13+deb14-amd64 (= 7.2.13-1)

Package: linux-image-7.2.13+deb14-cloud-amd64
Version: 7.2.13-1
Depends: linux-binary-7.2.13+deb14-cloud-amd64 (= 7.2.13-1), linux-modules-7.2.13+deb14-cloud-amd64 (= 7.2.13-1), linux-base-7.2.13+deb14-cloud-amd64 (= 7.2.13-1)

Package: linux-image-7.2.13+deb14-amd64-dbg
Version: 7.2.13-1

Package: linux-image-6.1.0-50-amd64
Version: 6.1.176-1
Depends: kmod, linux-base (>= 4.3~), initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool

Package: linux-image-6.1.0-57-amd64
Version: 6.1.192-3
Depends: kmod, linux-base (>= 4.3~)
Filename: pool/main/l/linux-signed-amd64/linux-image-6.1.0-57-amd64_6.1.192-3_amd64.deb
`;

describe('kernels from the package lists', () => {
  const kernels = kernelsFromStanzas('sid', SHOW);

  it("keep the image's pool file (what `kernels list` asks the archive about), when the index names one", () => {
    expect(kernels.find((k) => k.release === '6.1.0-57-amd64')?.imageFilename).toBe('pool/main/l/linux-signed-amd64/linux-image-6.1.0-57-amd64_6.1.192-3_amd64.deb');
    expect(kernels.find((k) => k.release === '7.2.13+deb14-amd64')?.imageFilename).toBeUndefined();
  });

  it('follow Depends to the split packages (7.x) and keep a single package as it is (6.1)', () => {
    const k72 = kernels.find((k) => k.release === '7.2.13+deb14-amd64')!;
    expect(k72.packages.map((p) => p.name).sort()).toEqual([
      'linux-base-7.2.13+deb14-amd64', 'linux-binary-7.2.13+deb14-amd64', 'linux-image-7.2.13+deb14-amd64', 'linux-modules-7.2.13+deb14-amd64',
    ]);
    expect(k72.headers).toEqual({ name: 'linux-headers-7.2.13+deb14-amd64', version: '7.2.13-1' });
    expect(kernels.find((k) => k.release === '6.1.0-50-amd64')!.packages).toHaveLength(1);
    expect(kernels.some((k) => k.image.name.endsWith('-dbg'))).toBe(false);
  });

  it('tell flavours and series apart', () => {
    expect(kernels.find((k) => k.release === '7.2.13+deb14-cloud-amd64')).toMatchObject({ flavour: 'cloud', series: '7.2' });
  });

  it('resolve a spec to exactly one kernel: default, exact version, series', () => {
    expect(pickKernel({ suite: 'sid', flavour: 'generic' }, kernels, new Map([['generic', 'linux-image-6.1.0-50-amd64']])).release).toBe('6.1.0-50-amd64');
    expect(pickKernel({ suite: 'sid', flavour: 'generic' }, kernels).release).toBe('7.2.13+deb14-amd64');
    expect(pickKernel({ suite: 'sid', flavour: 'generic', version: '6.1.192-3' }, kernels).release).toBe('6.1.0-57-amd64');
    expect(pickKernel({ suite: 'sid', flavour: 'generic', version: '6.1' }, kernels).release).toBe('6.1.0-57-amd64');
  });

  it('say what the suite serves when it does not serve the kernel asked for, never another kernel', () => {
    expect(() => pickKernel({ suite: 'sid', flavour: 'generic', version: '6.1.158-1' }, kernels)).toThrow(KernelNotServedError);
    expect(() => pickKernel({ suite: 'sid', flavour: 'generic', version: '6.1.158-1' }, kernels)).toThrow(/6\.1\.176-1, 6\.1\.192-3, 7\.2\.13-1/);
    expect(() => pickKernel({ suite: 'sid', flavour: 'rt' }, kernels)).toThrow(/no rt kernel/);
  });
});

describe('the default lab', () => {
  it('boots one micro-VM per series (5.10, 6.1, 6.12, 7.2, 7.3) and a cloud flavour, every cell named once', async () => {
    const { IMAGES, defaultImages } = await import('../../../harness/runner/lab-images.ts');
    const micro = defaultImages().filter((i) => i.kind === 'micro');
    expect(micro.map((i) => i.name)).toEqual([
      'microvm-bookworm', 'microvm-bullseye', 'microvm-trixie',
      'microvm-trixie-backports-7.2', 'microvm-trixie-backports-7.3', 'microvm-trixie-cloud',
    ]);
    expect(micro.filter((i) => i.kind === 'micro' && i.kernel?.flavour === 'cloud')).toHaveLength(1);
    expect(new Set(IMAGES.map((i) => i.name)).size).toBe(IMAGES.length);
  });
});

describe('kernel versions', () => {
  it('read uname -r of every layout as numbers and compare them', async () => {
    const { atLeast, parseKernelRelease } = await import('../../../harness/kernels/kernel-version.ts');
    expect(parseKernelRelease('7.2.13+deb14-amd64\n')).toEqual({ major: 7, minor: 2, patch: 13 });
    expect(parseKernelRelease('6.1.0-57-amd64')).toEqual({ major: 6, minor: 1, patch: 0 });
    expect(parseKernelRelease('7.3-amd64')).toEqual({ major: 7, minor: 3, patch: 0 });
    expect(atLeast(parseKernelRelease('7.2.13+deb14-amd64'), 7, 2)).toBe(true);
    expect(atLeast(parseKernelRelease('6.12.117+deb13-amd64'), 7, 2)).toBe(false);
    expect(atLeast(parseKernelRelease('10.0.1'), 7, 2)).toBe(true);
    expect(() => parseKernelRelease('')).toThrow(/not a kernel release/);
  });
});

describe('a kernel whose headers the archive no longer serves', () => {
  it('is listed but refused by name, saying why and which kernels can be built', () => {
    const show = `Package: linux-image-7.0.13+deb13-amd64\nVersion: 7.0.13-1~bpo13+1\n\nPackage: linux-image-7.3.4+deb13-amd64\nVersion: 7.3.4-1~bpo13+1\n`;
    const kernels = kernelsFromStanzas('trixie-backports', show, new Set(['linux-headers-7.3.4+deb13-amd64']));
    expect(kernels.map((k) => k.headersServed)).toEqual([false, true]);
    expect(() => pickKernel({ suite: 'trixie-backports', flavour: 'generic', version: '7.0' }, kernels)).toThrow(
      /no longer its headers linux-headers-7\.0\.13\+deb13-amd64: toa\.ko cannot be built for it; kernels of trixie-backports with headers: 7\.3\.4-1~bpo13\+1/,
    );
    expect(pickKernel({ suite: 'trixie-backports', flavour: 'generic' }, kernels).release).toBe('7.3.4+deb13-amd64');
  });
});
