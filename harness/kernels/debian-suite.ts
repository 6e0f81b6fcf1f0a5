/**
 * Every Debian suite the lab knows, in one place. A suite is where a kernel
 * comes from; the rest of the lab (full-OS images, build chroots, micro-VM
 * kernels) names suites with this one type.
 *
 * - `base` is the release whose own packages (gcc, libc) sit under a pocket:
 *   a chroot for trixie-backports is trixie plus trixie-backports.
 * - `archive` is the path on the mirror: security pockets live apart.
 * - `rolling`: testing/unstable/experimental, whose Release files this archive
 *   serves past their Valid-Until date (LAB-NOTES), so apt must be told
 *   `Acquire::Check-Valid-Until=false` for them, and only for them.
 */
export const DEBIAN_SUITES = [
  'bullseye',
  'bullseye-security',
  'bookworm',
  'bookworm-security',
  'bookworm-backports',
  'trixie',
  'trixie-security',
  'trixie-backports',
  'forky',
  'sid',
  'experimental',
] as const;

export type DebianSuite = (typeof DEBIAN_SUITES)[number];

/** The three stable releases the lab builds whole Debian systems of. */
export type DebianRelease = Extract<DebianSuite, 'bullseye' | 'bookworm' | 'trixie'>;

export interface SuiteInfo {
  suite: DebianSuite;
  /** The release whose toolchain and libraries a chroot of this suite is built on. */
  base: DebianSuite;
  archive: 'debian' | 'debian-security';
  rolling: boolean;
}

export const DEBIAN_MIRROR_HOST = 'http://deb.debian.org';

const ROLLING: ReadonlySet<DebianSuite> = new Set(['forky', 'sid', 'experimental']);

export function isDebianSuite(name: string): name is DebianSuite {
  return (DEBIAN_SUITES as readonly string[]).includes(name);
}

export function suiteInfo(suite: DebianSuite): SuiteInfo {
  const pocket = /^(\w+)-(security|backports)$/.exec(suite);
  const base = (suite === 'experimental' ? 'sid' : (pocket?.[1] ?? suite)) as DebianSuite;
  return {
    suite,
    base,
    archive: pocket?.[2] === 'security' ? 'debian-security' : 'debian',
    rolling: ROLLING.has(suite),
  };
}

/** `deb` lines for a chroot of `suite`: its base release first, then the pocket itself. */
export function sourceLines(suite: DebianSuite, mirrorHost = DEBIAN_MIRROR_HOST): string[] {
  const info = suiteInfo(suite);
  const line = (s: SuiteInfo) => `deb ${mirrorHost}/${s.archive} ${s.suite} main`;
  return info.base === suite ? [line(info)] : [line(suiteInfo(info.base)), line(info)];
}

/** apt options a suite needs: none, or Check-Valid-Until=false for the rolling suites' expired Release files. */
export function suiteAptOptions(suite: DebianSuite): string[] {
  const rolling = suiteInfo(suite).rolling || suiteInfo(suiteInfo(suite).base).rolling;
  return rolling ? ['-o', 'Acquire::Check-Valid-Until=false'] : [];
}

/**
 * The `deb` lines of an installed Debian system kept up to date, as Debian's own
 * installer writes them: the release, its -updates and its security pocket.
 * The lab's whole-OS images are built from these, so they boot the kernel an
 * updated system runs (bookworm: the security pocket's 6.1, not main's).
 */
export function installedSystemSources(release: DebianRelease, mirrorHost = DEBIAN_MIRROR_HOST): string[] {
  return [`deb ${mirrorHost}/debian ${release} main`, `deb ${mirrorHost}/debian ${release}-updates main`, `deb ${mirrorHost}/debian-security ${release}-security main`];
}
