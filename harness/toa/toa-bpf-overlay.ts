import { createHash } from 'node:crypto';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureCached } from '../cache/artifact-cache.ts';
import { hashSourceTrees } from '../cache/source-hash.ts';
import { runHostCommand } from '../exec/run-host-command.ts';
import { repoRoot } from '../repo-root.ts';
import { writeCpioNewc } from '../images/microvm/cpio-newc.ts';
import type { MicroVmImage } from '../images/microvm/build-microvm-image.ts';

/**
 * eBPF TOA in a micro-VM: the BPF object (ours from native/toa-bpf, or a
 * user's `--toa-bpf OBJ`) and our static loader, added to an existing micro-VM
 * image as a second cpio archive appended to its initramfs (the kernel unpacks
 * concatenated archives in order, as it does for early microcode). The image
 * itself stays the cached one: eBPF needs nothing built per kernel, so the six
 * default images are not rebuilt for it. (This file lives in harness/toa, not
 * harness/images, for the same reason: the micro-VM recipe hashes that folder.)
 */
export const GUEST_TOA_BPF_DIR = '/toa-bpf';

export interface GuestToaBpf {
  /** The static loader in the guest (native/toa-bpf/toa-bpf-load.c). */
  loader: string;
  /** The BPF object in the guest. */
  object: string;
  /** What the object is, for reports: "toa-lab's own (native/toa-bpf)" or the user's file. */
  origin: string;
}

/** Built on the host once per recipe: the BPF object does not depend on the guest's kernel (no CO-RE relocations). */
export interface ToaBpfBuild {
  dir: string;
  object: string;
  loader: string;
  built: boolean;
}

export async function ensureToaBpfBuild(onProgress: (line: string) => void = () => {}): Promise<ToaBpfBuild> {
  const recipe = {
    sources: await hashSourceTrees(['native/toa-bpf']),
    // The compiler and the static libraries end up in the artefacts: their versions are part of the recipe.
    tools: await hostPackageVersions(['clang', 'libbpf-dev', 'libelf-dev', 'zlib1g-dev', 'libzstd-dev', 'linux-libc-dev']),
  };
  const artifact = await ensureCached('toa-bpf', recipe, async (dir) => {
    onProgress('building eBPF TOA (native/toa-bpf: toa.bpf.o, toa-bpf-load)');
    const build = join(dir, 'build');
    await cp(join(repoRoot(), 'native', 'toa-bpf'), build, { recursive: true });
    await runHostCommand('make', ['-C', build, 'clean']);
    await runHostCommand('make', ['-C', build], { timeoutMs: 300_000 });
  });
  return {
    dir: artifact.dir,
    object: join(artifact.dir, 'build', 'toa.bpf.o'),
    loader: join(artifact.dir, 'build', 'toa-bpf-load'),
    built: artifact.built,
  };
}

/**
 * The image with eBPF TOA added: a cached initramfs (the image's, then ours)
 * keyed by the image's own cache folder and the object's bytes.
 */
export async function withToaBpf(
  image: MicroVmImage,
  options: { userObject?: string; onProgress?: (line: string) => void } = {},
): Promise<{ image: MicroVmImage; toaBpf: GuestToaBpf }> {
  const build = await ensureToaBpfBuild(options.onProgress);
  const objectFile = options.userObject ?? build.object;
  const object = await readFile(objectFile);
  const loader = await readFile(build.loader);
  const recipe = {
    image: image.dir,
    object: createHash('sha256').update(object).digest('hex'),
    loader: createHash('sha256').update(loader).digest('hex'),
  };
  const artifact = await ensureCached(`${image.name}-toa-bpf`, recipe, async (dir) => {
    const overlay = writeCpioNewc([
      { type: 'dir', path: GUEST_TOA_BPF_DIR.slice(1) },
      { type: 'file', path: `${GUEST_TOA_BPF_DIR.slice(1)}/toa-bpf-load`, data: loader, mode: 0o755 },
      { type: 'file', path: `${GUEST_TOA_BPF_DIR.slice(1)}/toa.bpf.o`, data: object },
    ]);
    const base = await readFile(image.initrd);
    await writeFile(join(dir, 'initrd.cpio'), Buffer.concat([base, alignment(base.length), overlay]));
  });
  return {
    image: { ...image, initrd: join(artifact.dir, 'initrd.cpio') },
    toaBpf: {
      loader: `${GUEST_TOA_BPF_DIR}/toa-bpf-load`,
      object: `${GUEST_TOA_BPF_DIR}/toa.bpf.o`,
      origin: options.userObject ? options.userObject : "toa-lab's own (native/toa-bpf)",
    },
  };
}

/** The kernel looks for the next archive's magic on a 4-byte boundary. */
function alignment(length: number): Buffer {
  return Buffer.alloc((4 - (length % 4)) % 4);
}

async function hostPackageVersions(names: readonly string[]): Promise<Record<string, string>> {
  const result = await runHostCommand('dpkg-query', ['-W', '-f', '${Package} ${Version}\n', ...names], { check: false });
  if (result.exitCode !== 0) {
    throw new Error(`eBPF TOA needs Debian's ${names.join(', ')} on the host (scripts/install-deps.sh installs them): ${result.stderr.trim()}`);
  }
  return Object.fromEntries(result.stdout.trim().split('\n').map((line) => line.split(' ') as [string, string]));
}
