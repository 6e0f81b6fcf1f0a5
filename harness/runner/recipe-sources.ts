import { IMAGES } from './lab-images.ts';
import { recipeHash } from '../cache/artifact-cache.ts';
import { hashSourceTrees } from '../cache/source-hash.ts';

/**
 * A CI cache key per lab image, from the repo files its recipe is built from:
 * computed without the network (kernel versions, which the full recipes also
 * carry, need Debian's package index). The trees are supersets of what each
 * builder hashes, so a key never stays the same when a recipe's sources change;
 * what a restored cache really holds is still decided by the recipe hashes in it.
 */
// native/toa-bpf: the eBPF TOA overlay a --toa-bpf run appends to each micro-VM's initramfs.
const MICRO_SOURCES = ['native/toa', 'native/toa-bpf', 'native/backend', 'images/microvm', 'harness/images'];
const FULL_OS_SOURCES = ['images/debian-base', 'harness/images'];

export async function recipeSourceHashes(): Promise<{ images: Record<string, string>; key: string }> {
  const micro = await hashSourceTrees(MICRO_SOURCES);
  const fullOs = await hashSourceTrees(FULL_OS_SOURCES);
  const images = Object.fromEntries(
    IMAGES.map((image) => [image.name, recipeHash({ image: image.name, sources: image.kind === 'micro' ? micro : fullOs })]),
  );
  return { images, key: recipeHash(images) };
}
