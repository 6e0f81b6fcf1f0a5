import { createHash } from 'node:crypto';
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { ensureCached } from '../../cache/artifact-cache.ts';
import { runHostCommand } from '../../exec/run-host-command.ts';
import { repoRoot } from '../../repo-root.ts';
import {
  candidatePackage,
  downloadDeb,
  ensureHostPackages,
  extractDeb,
  resolveMetapackage,
  type DebianPackage,
} from '../debian/debian-packages.ts';
import { writeCpioNewc, type CpioEntry } from './cpio-newc.ts';
import { moduleLoadOrder } from './kernel-modules.ts';

/**
 * The micro-VM: Debian's own kernel, a busybox initramfs, our toa.ko built
 * against that kernel's exact headers, and the tiny C backend. Boots to a
 * working guest in seconds even under TCG, which is what lets the data-path
 * tests run against a real kernel on every CI run.
 */
export interface MicroVmImage {
  dir: string;
  kernel: string;
  initrd: string;
  kernelRelease: string;
  kernelPackage: DebianPackage;
  /** Where toa.ko sits inside the guest. */
  guestToaModule: string;
  /** True when this call built the image; false when it came from the cache. */
  built: boolean;
}

/** Drivers for the lab-wire NIC; the rest of the hardware is built into Debian's kernel. */
const GUEST_MODULES = ['virtio_pci', 'virtio_net'];
const GUEST_TOA_MODULE = '/toa/toa.ko';

export async function ensureMicroVmImage(onProgress: (line: string) => void = () => {}): Promise<MicroVmImage> {
  const kernelPackage = await resolveMetapackage('linux-image-amd64', 'linux-image-');
  const busybox = await candidatePackage('busybox-static');
  const kernelRelease = kernelPackage.name.replace(/^linux-image-/, '');
  const headers = await candidatePackage(`linux-headers-${kernelRelease}`);
  const recipe = {
    kernelPackage,
    headers,
    busybox,
    guestModules: GUEST_MODULES,
    sources: await hashSourceTrees(['native/toa', 'native/backend', 'images/microvm', 'harness/images']),
  };

  const artifact = await ensureCached('microvm', recipe, async (dir) => {
    onProgress(`building micro-VM image for ${kernelPackage.name} ${kernelPackage.version}`);
    // toa.ko must be built against the exact headers of the guest's kernel.
    await ensureHostPackages([headers]);
    const debs = join(dir, 'debs');
    const root = join(dir, 'extracted');
    await mkdir(debs, { recursive: true });
    for (const pkg of [kernelPackage, busybox]) {
      onProgress(`  fetching ${pkg.name} ${pkg.version}`);
      await extractDeb(await downloadDeb(pkg, debs), root);
    }
    await cp(join(root, 'boot', `vmlinuz-${kernelRelease}`), join(dir, 'vmlinuz'));

    onProgress('  building toa.ko and toa-backend');
    const toaKo = await buildToaModule(join(dir, 'build', 'toa'), `/usr/src/linux-headers-${kernelRelease}`);
    const backend = await buildBackend(join(dir, 'build', 'backend'));

    onProgress('  assembling initramfs');
    const modules = await moduleLoadOrder(root, kernelRelease, GUEST_MODULES);
    const modulesDir = join(root, 'lib', 'modules', kernelRelease);
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
      { type: 'file', path: 'modules/order', data: Buffer.from(modules.map((m) => basename(m)).join('\n') + '\n') },
    ];
    for (const module of modules) {
      entries.push({ type: 'file', path: `modules/${basename(module)}`, data: await readFile(join(modulesDir, module)) });
    }
    // Left uncompressed: under TCG, unpacking is cheaper than decompressing.
    await writeFile(join(dir, 'initrd.cpio'), writeCpioNewc(entries));
    await writeFile(
      join(dir, 'manifest.json'),
      JSON.stringify({ kernelRelease, kernelPackage, busybox, modules }, null, 2),
    );
    await runHostCommand('rm', ['-rf', debs, root]);
  });

  if (artifact.built) onProgress(`micro-VM image ready in ${artifact.dir}`);
  return {
    dir: artifact.dir,
    kernel: join(artifact.dir, 'vmlinuz'),
    initrd: join(artifact.dir, 'initrd.cpio'),
    kernelRelease,
    kernelPackage,
    guestToaModule: GUEST_TOA_MODULE,
    built: artifact.built,
  };
}

/** Builds native/toa out of tree (in a copy, so the repo stays clean) and returns toa.ko's path. */
async function buildToaModule(buildDir: string, kernelDir: string): Promise<string> {
  await cp(join(repoRoot(), 'native', 'toa'), buildDir, { recursive: true });
  await runHostCommand('make', ['-C', buildDir, `KDIR=${kernelDir}`], { timeoutMs: 600_000 });
  return join(buildDir, 'toa.ko');
}

async function buildBackend(buildDir: string): Promise<string> {
  await cp(join(repoRoot(), 'native', 'backend'), buildDir, { recursive: true });
  await runHostCommand('make', ['-C', buildDir], { timeoutMs: 300_000 });
  return join(buildDir, 'toa-backend');
}

/** A hash of every file under the given repo folders: part of the cache key. */
async function hashSourceTrees(folders: readonly string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const folder of folders) {
    for (const file of await listFiles(join(repoRoot(), folder))) {
      hash.update(relative(repoRoot(), file)).update('\0').update(await readFile(file)).update('\0');
    }
  }
  return hash.digest('hex').slice(0, 16);
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const files: string[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await listFiles(path)));
    else if (entry.isFile() && !isBuildOutput(entry.name)) files.push(path);
  }
  return files;
}

/** Build products a developer may have left in native/: not part of the recipe. */
function isBuildOutput(name: string): boolean {
  return /\.(o|ko|mod|mod\.c|cmd|order|symvers)$/.test(name) || name === 'toa-backend' || name.startsWith('.');
}
