import { runHostCommand } from '../exec/run-host-command.ts';
import { dependsGroups } from './package-formats.ts';
import { DEBIAN_MIRROR_HOST, suiteInfo, type DebianSuite } from './debian-suite.ts';
import { formatKernelSpec, type KernelFlavour, type KernelSpec } from './kernel-spec.ts';
import { suiteLists, type SuiteLists } from './suite-lists.ts';

/**
 * The kernels Debian's archive serves, read from apt's package lists (one
 * suite's `main` Packages index each, see suite-lists.ts), and a user's
 * kernel spec resolved to exactly one of them.
 */
export interface ArchivePackage {
  name: string;
  version: string;
}

export interface ArchiveKernel {
  suite: DebianSuite;
  flavour: KernelFlavour;
  /** `linux-image-<release>` at its version. */
  image: ArchivePackage;
  /** `uname -r`, e.g. 7.2.13+deb14-amd64 */
  release: string;
  /** Upstream series, e.g. 7.2 */
  series: string;
  /**
   * Every package that carries the kernel's files: the image alone (≤ 6.x),
   * or the image plus the `linux-binary-`, `linux-modules-` and `linux-base-`
   * packages it depends on (Debian's split 7.x layout). Read from Depends,
   * not assumed from a version number.
   */
  packages: ArchivePackage[];
  headers: ArchivePackage;
  /**
   * Whether the suite serves those headers too. Pockets keep older signed
   * images after their headers are gone (trixie-backports: images from 6.16,
   * headers from 7.2.6 only); without headers toa.ko cannot be built.
   */
  headersServed: boolean;
  /** The image package's path in the archive's pool (the index's `Filename`), when the index gave one. */
  imageFilename?: string;
}

export class KernelNotServedError extends Error {
  override readonly name = 'KernelNotServedError';
}

/** linux-image-<release> where release ends in -amd64 / -cloud-amd64 / -rt-amd64 (not -dbg, -unsigned). */
const IMAGE_NAME = /^linux-image-(\d[\w.+~-]*?-(?:(cloud|rt)-)?amd64)$/;

/** Pure: the package stanzas of `apt-cache show` → the suite's kernels; `headerNames`: the suite's linux-headers-* names. */
export function kernelsFromStanzas(suite: DebianSuite, showOutput: string, headerNames?: ReadonlySet<string>): ArchiveKernel[] {
  const stanzas = parseStanzas(showOutput);
  const byName = new Map<string, Array<Record<string, string>>>();
  for (const s of stanzas) byName.set(s.Package ?? '', [...(byName.get(s.Package ?? '') ?? []), s]);
  const kernels: ArchiveKernel[] = [];
  for (const s of stanzas) {
    const m = IMAGE_NAME.exec(s.Package ?? '');
    if (!m || !s.Version) continue;
    const release = m[1]!;
    const version = s.Version;
    const flavour: KernelFlavour = (m[2] as KernelFlavour | undefined) ?? 'generic';
    const image = { name: s.Package!, version };
    // The packages that make up this kernel are those of its Depends that carry its release in their name.
    const parts = dependsNames(s.Depends ?? '').filter((d) => d.includes(release));
    kernels.push({
      suite,
      flavour,
      image,
      release,
      series: /^(\d+\.\d+)/.exec(version)?.[1] ?? '?',
      packages: [image, ...parts.map((name) => ({ name, version }))],
      headers: { name: `linux-headers-${release}`, version },
      headersServed: headerNames ? headerNames.has(`linux-headers-${release}`) : true,
      ...(s.Filename && { imageFilename: s.Filename }),
    });
  }
  return kernels.sort((a, b) => compareVersions(a.image.version, b.image.version) || a.release.localeCompare(b.release));
}

/** Every kernel one suite serves (newest last). */
export async function suiteKernels(suite: DebianSuite, log?: (line: string) => void): Promise<{ kernels: ArchiveKernel[]; lists: SuiteLists; defaults: Map<KernelFlavour, string> }> {
  const lists = await suiteLists(suite, log);
  const names = await runHostCommand('apt-cache', [...lists.aptOptions, 'pkgnames', 'linux-image-']);
  const wanted = names.stdout.split('\n').filter((n) => IMAGE_NAME.test(n) || /^linux-image-(cloud-|rt-)?amd64$/.test(n));
  if (wanted.length === 0) return { kernels: [], lists, defaults: new Map() };
  const shown = await runHostCommand('apt-cache', [...lists.aptOptions, 'show', ...wanted], { check: false });
  const headers = await runHostCommand('apt-cache', [...lists.aptOptions, 'pkgnames', 'linux-headers-']);
  const kernels = kernelsFromStanzas(suite, shown.stdout, new Set(headers.stdout.split('\n').filter(Boolean)));
  // What `apt install linux-image-<flavour>-amd64` would give: the default when no version is named.
  const defaults = new Map<KernelFlavour, string>();
  for (const s of parseStanzas(shown.stdout)) {
    const meta = /^linux-image-(?:(cloud|rt)-)?amd64$/.exec(s.Package ?? '');
    if (!meta) continue;
    const target = dependsNames(s.Depends ?? '').find((d) => IMAGE_NAME.test(d));
    const flavour = (meta[1] as KernelFlavour | undefined) ?? 'generic';
    if (target && !defaults.has(flavour)) defaults.set(flavour, target);
  }
  return { kernels, lists, defaults };
}

/** An archive kernel and the apt lists it was read from (to download its packages with). */
export interface ResolvedKernel extends ArchiveKernel {
  spec: KernelSpec;
  /** apt options that reach the suite's lists (for `apt-get download`). */
  aptOptions: string[];
  /** Said to the user: expired Release file accepted, stale lists used. */
  notes: string[];
}

/** Exactly one archive kernel for a spec, or KernelNotServedError saying what the suite does serve. */
export async function resolveKernel(spec: KernelSpec, log?: (line: string) => void): Promise<ResolvedKernel> {
  const { kernels, lists, defaults } = await suiteKernels(spec.suite, log);
  const found = pickKernel(spec, kernels, defaults);
  return { ...found, spec, aptOptions: lists.aptOptions, notes: lists.notes };
}

/** Pure part of resolveKernel. */
export function pickKernel(spec: KernelSpec, kernels: readonly ArchiveKernel[], defaults: ReadonlyMap<KernelFlavour, string> = new Map()): ArchiveKernel {
  const ofFlavour = kernels.filter((k) => k.flavour === spec.flavour);
  let found: ArchiveKernel | undefined;
  if (!spec.version) {
    const target = defaults.get(spec.flavour);
    found = ofFlavour.find((k) => k.image.name === target) ?? ofFlavour.at(-1);
  } else if (/^\d+\.\d+$/.test(spec.version)) {
    found = ofFlavour.filter((k) => k.series === spec.version).at(-1);
  } else {
    found = ofFlavour.find((k) => k.image.version === spec.version);
  }
  if (found && !found.headersServed) {
    throw new KernelNotServedError(
      `the archive serves ${found.image.name} ${found.image.version} (${formatKernelSpec(spec)}) but no longer its headers ` +
        `${found.headers.name}: toa.ko cannot be built for it; kernels of ${spec.suite} with headers: ` +
        `${[...new Set(ofFlavour.filter((k) => k.headersServed).map((k) => k.image.version))].slice(-8).join(', ') || 'none'}`,
    );
  }
  if (found) return found;
  const served = [...new Set(ofFlavour.map((k) => k.image.version))];
  throw new KernelNotServedError(
    `the archive does not serve kernel ${formatKernelSpec(spec)}: ${spec.suite} has ` +
      (served.length ? `${spec.flavour} kernels ${served.slice(-8).join(', ')}${served.length > 8 ? ` (and ${served.length - 8} older)` : ''}` : `no ${spec.flavour} kernel`) +
      `; see 'toa-lab kernels list'`,
  );
}

function parseStanzas(text: string): Array<Record<string, string>> {
  return text
    .split(/\n\s*\n/)
    .map((block) => {
      const fields: Record<string, string> = {};
      let key = '';
      for (const line of block.split('\n')) {
        if (/^\s/.test(line) && key) fields[key] += `\n${line.trim()}`;
        else {
          const m = /^([\w-]+):\s?(.*)$/.exec(line);
          if (m) fields[(key = m[1]!)] = m[2]!;
        }
      }
      return fields;
    })
    .filter((f) => f.Package);
}

function dependsNames(depends: string): string[] {
  return dependsGroups(depends).flat();
}

/** Debian version order is enough here as numeric-aware string order (same epoch, same scheme). */
export function compareVersions(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/**
 * Whether the archive really has the kernel's image file: an index can name a pool file the
 * mirror no longer holds (seen here: bullseye-security's 5.10.0-46-rt-amd64, 404). One HEAD
 * request; true when the index gave no file name to ask about.
 */
export async function imageFileServed(kernel: ArchiveKernel): Promise<boolean> {
  if (!kernel.imageFilename) return true;
  const url = `${DEBIAN_MIRROR_HOST}/${suiteInfo(kernel.suite).archive}/${kernel.imageFilename}`;
  const response = await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(30_000) });
  return response.ok;
}
