import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { hashSourceTrees } from '../../cache/source-hash.ts';
import { ensureCached } from '../../cache/artifact-cache.ts';
import { runHostCommand } from '../../exec/run-host-command.ts';
import { repoRoot } from '../../repo-root.ts';
import type { DebianSuite } from '../../kernels/debian-suite.ts';
import { kernelCellName, type KernelSpec } from '../../kernels/kernel-spec.ts';
import { candidatePackage, downloadDeb, extractDeb, type DebianPackage } from '../debian/debian-packages.ts';
import { guestKernelSource, resolveGuestKernel } from './guest-kernel.ts';
import { userKernelCellName, type UserKernelPackages } from '../../kernels/kernel-packages.ts';
import { unpackPackage } from '../../kernels/package-formats.ts';
import { writeCpioNewc, type CpioEntry } from './cpio-newc.ts';
import { moduleLoadOrder, modulesDirOf } from './kernel-modules.ts';

/**
 * The micro-VM: Debian's own kernel, a busybox initramfs, our toa.ko built
 * against that kernel's exact headers, and the tiny C backend. Boots to a
 * working guest in seconds even under TCG, which is what lets the data-path
 * tests run against a real kernel on every CI run.
 */
export interface MicroVmImage {
  /** e.g. microvm-bookworm: names the matrix cell. */
  name: string;
  suite: DebianSuite;
  dir: string;
  kernel: string;
  initrd: string;
  kernelRelease: string;
  kernelPackage: DebianPackage;
  /**
   * Kernel command-line words this kernel needs in the lab, from its own config:
   * PREEMPT_RT gets `noirqdebug`. Under TCG its force-threaded serial IRQ runs
   * late under load, the spurious-IRQ detector counts the agent's port (ttyS1,
   * IRQ 3) as "nobody cared" and disables it, and the guest agent goes silent
   * (seen on 7.3.4-rt in the `load` scenario; no TOA code in the trace).
   */
  kernelArgs: readonly string[];
  /** Where toa.ko sits inside the guest. */
  guestToaModule: string;
  /** True when this call built the image; false when it came from the cache. */
  built: boolean;
}

/** Drivers for the lab-wire NIC; the rest of the hardware is built into Debian's kernel. */
const GUEST_MODULES = ['virtio_pci', 'virtio_net'];
/**
 * Loaded at boot where the kernel has them, left out where it does not: veth, for the
 * netns-backend scenario's pair into a network namespace (a container's socket). Busybox's
 * `ip link add NAME type veth`, `ip link set … netns PID`, `unshare -n` and `nsenter -n` do the rest.
 */
const OPTIONAL_GUEST_MODULES = ['veth'];
const GUEST_TOA_MODULE = '/toa/toa.ko';

/** The Debian suites whose kernels the micro-VM lab boots: 5.10, 6.1, 6.12. */
export const MICROVM_SUITES: readonly DebianSuite[] = ['bookworm', 'bullseye', 'trixie'];

export function microVmImageName(suite: DebianSuite): string {
  return `microvm-${suite}`;
}

export interface MicroVmImageOptions {
  suite?: DebianSuite;
  /** Any kernel the archive serves (harness/kernels); wins over `suite`. */
  kernel?: KernelSpec;
  /** A user's own kernel packages (--kernel-deb/--headers-deb); wins over both. */
  kernelPackages?: UserKernelPackages;
  /** A TOA module to bake in instead of ours (a vendor's, already built for this kernel). */
  toaModule?: string;
  onProgress?: (line: string) => void;
}

export async function ensureMicroVmImage(options: MicroVmImageOptions = {}): Promise<MicroVmImage> {
  const onProgress = options.onProgress ?? (() => {});
  const kernel = await resolveGuestKernel(guestKernelSource(options), onProgress);
  const suite = kernel.suite;
  const name = options.kernelPackages
    ? userKernelCellName(options.kernelPackages.release, options.kernelPackages.format)
    : options.kernel
      ? kernelCellName(options.kernel)
      : microVmImageName(suite);
  const { kernelPackage, kernelRelease } = kernel;
  const busybox = await candidatePackage('busybox-static');
  const recipe = {
    kernel: kernel.recipe,
    busybox,
    guestModules: GUEST_MODULES,
    optionalGuestModules: OPTIONAL_GUEST_MODULES,
    sources: await hashSourceTrees(['native/toa', 'native/backend', 'images/microvm', 'harness/images']),
    toaModule: options.toaModule ? createHash('sha256').update(await readFile(options.toaModule)).digest('hex') : 'ours',
  };

  const artifact = await ensureCached(name, recipe, async (dir) => {
    onProgress(`building micro-VM image for ${kernelPackage.name} ${kernelPackage.version} (${suite})`);
    const debs = join(dir, 'debs');
    const root = join(dir, 'extracted');
    await mkdir(debs, { recursive: true });
    const kernelPackages = await kernel.fetchKernelPackages(debs);
    onProgress(`  fetched ${kernelPackages.map((p) => basename(p.path)).join(', ')}; ${busybox.name} ${busybox.version}`);
    for (const pkg of kernelPackages) await unpackPackage(pkg.format, pkg.path, root);
    await extractDeb(await downloadDeb(busybox, debs), root);
    await cp(findVmlinuz(root, kernelRelease), join(dir, 'vmlinuz'));
    const kernelArgs = labKernelArgs(await readKernelConfig(root, kernelRelease));

    onProgress('  building toa.ko and toa-backend');
    // toa.ko must be built against the exact headers of the guest's kernel.
    await mkdir(join(dir, 'build'), { recursive: true });
    const toaKo = options.toaModule ?? (await kernel.buildToaModule(join(repoRoot(), 'native', 'toa'), join(dir, 'build', 'toa')));
    const backend = await buildBackend(join(dir, 'build', 'backend'));

    onProgress('  assembling initramfs');
    const modules = await moduleLoadOrder(root, kernelRelease, GUEST_MODULES, OPTIONAL_GUEST_MODULES);
    const modulesDir = modulesDirOf(root, kernelRelease);
    const entries: CpioEntry[] = [
      ...['bin', 'dev', 'proc', 'sys', 'tmp', 'run', 'var', 'var/log', 'modules', 'toa'].map(
        (path): CpioEntry => ({ type: 'dir', path }),
      ),
      { type: 'char-device', path: 'dev/console', major: 5, minor: 1 },
      { type: 'file', path: 'bin/busybox', data: await readFile(join(root, 'bin', 'busybox')), mode: 0o755 },
      { type: 'symlink', path: 'bin/sh', target: 'busybox' },
      { type: 'file', path: 'init', data: await readFile(join(repoRoot(), 'images/microvm/init')), mode: 0o755 },
      {
        type: 'file',
        path: 'bin/toa-agent',
        data: await readFile(join(repoRoot(), 'images/microvm/agent')),
        mode: 0o755,
      },
      { type: 'file', path: 'bin/toa-backend', data: await readFile(backend), mode: 0o755 },
      { type: 'file', path: GUEST_TOA_MODULE.slice(1), data: await readFile(toaKo) },
      { type: 'file', path: 'modules/order', data: Buffer.from(modules.map(plainModuleName).join('\n') + '\n') },
    ];
    for (const module of modules) {
      entries.push({ type: 'file', path: `modules/${plainModuleName(module)}`, data: await readModule(join(modulesDir, module)) });
    }
    // Left uncompressed: under TCG, unpacking is cheaper than decompressing.
    await writeFile(join(dir, 'initrd.cpio'), writeCpioNewc(entries));
    await writeFile(
      join(dir, 'manifest.json'),
      JSON.stringify({ kernelRelease, kernelPackage, busybox, modules, kernelArgs }, null, 2),
    );
    await runHostCommand('rm', ['-rf', debs, root]);
  });

  if (artifact.built) onProgress(`micro-VM image ready in ${artifact.dir}`);
  const manifest = JSON.parse(await readFile(join(artifact.dir, 'manifest.json'), 'utf8')) as { kernelArgs?: string[] };
  return {
    name,
    suite,
    dir: artifact.dir,
    kernel: join(artifact.dir, 'vmlinuz'),
    initrd: join(artifact.dir, 'initrd.cpio'),
    kernelRelease,
    kernelPackage,
    kernelArgs: manifest.kernelArgs ?? [],
    guestToaModule: GUEST_TOA_MODULE,
    built: artifact.built,
  };
}

/**
 * Where the kernel itself sits: /boot/vmlinuz-<rel> in one-package kernels
 * (≤ 6.x), /usr/lib/modules/<rel>/vmlinuz in Debian's split 7.x packages
 * (linux-binary-<rel>; there is no /boot).
 */
export function findVmlinuz(root: string, kernelRelease: string): string {
  const candidates = [
    join(root, 'boot', `vmlinuz-${kernelRelease}`),
    join(root, 'usr', 'lib', 'modules', kernelRelease, 'vmlinuz'),
    join(root, 'lib', 'modules', kernelRelease, 'vmlinuz'),
  ];
  const found = candidates.find((path) => existsSync(path));
  if (!found) throw new Error(`no kernel image for ${kernelRelease} in its packages (looked for ${candidates.map((c) => c.slice(root.length)).join(', ')})`);
  return found;
}

/** The kernel's own config (/boot/config-<rel>, or /usr/lib/modules/<rel>/config in split 7.x packages). */
async function readKernelConfig(root: string, kernelRelease: string): Promise<string> {
  const candidates = [
    join(root, 'boot', `config-${kernelRelease}`),
    join(root, 'usr', 'lib', 'modules', kernelRelease, 'config'),
    join(root, 'lib', 'modules', kernelRelease, 'config'),
  ];
  const found = candidates.find((path) => existsSync(path));
  return found ? readFile(found, 'utf8') : '';
}

/** Pure: command-line words for the lab from a kernel config (see MicroVmImage.kernelArgs). */
export function labKernelArgs(config: string): string[] {
  return /^CONFIG_PREEMPT_RT=y$/m.test(config) ? ['noirqdebug'] : [];
}

/** trixie ships modules xz-compressed; busybox's insmod wants them plain. */
async function readModule(path: string): Promise<Buffer> {
  // Decompressed in place: the extracted tree is ours and deleted after the build.
  if (path.endsWith('.xz')) await runHostCommand('xz', ['-d', path]);
  if (path.endsWith('.zst')) await runHostCommand('zstd', ['-d', '--rm', '-q', path]);
  return readFile(path.replace(/\.(xz|zst)$/, ''));
}

function plainModuleName(path: string): string {
  return basename(path).replace(/\.(xz|zst)$/, '');
}

async function buildBackend(buildDir: string): Promise<string> {
  await cp(join(repoRoot(), 'native', 'backend'), buildDir, { recursive: true });
  await runHostCommand('make', ['-C', buildDir], { timeoutMs: 300_000 });
  return join(buildDir, 'toa-backend');
}
