import type { PackageManager } from './profile.ts';

/**
 * The four questions every step asks a package manager, per package manager, as shell
 * function bodies. Every call is non-interactive and bounded by `timeout`, so an
 * unreachable mirror gives a failed step, not a hung run.
 */
interface PackageManagerCommands {
  /** Exit 0 if package "$1" is installed. */
  installed: string;
  /** Refresh the package lists (apt only; the rpm tools refresh on demand). */
  refresh: string | null;
  /**
   * Exit 0 if the configured repositories can provide package "$1". Its own words on a
   * miss stay on stderr: "no devel package" is reported with the package manager's output.
   */
  available: string;
  /** Install packages "$@". */
  install: string;
}

const RPM_INSTALLED = 'rpm -q "$1" >/dev/null 2>&1';

const COMMANDS: Record<PackageManager, PackageManagerCommands> = {
  apt: {
    // `dpkg -s` also succeeds for removed packages whose conffiles remain: check the status.
    installed: `dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed$'`,
    refresh: 'timeout 300 apt-get -o Acquire::Retries=0 -q update',
    available: 'apt-cache show --no-all-versions "$1" >/dev/null',
    install:
      'DEBIAN_FRONTEND=noninteractive timeout 1800 apt-get -o Acquire::Retries=0 ' +
      '-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold -y -q install "$@"',
  },
  yum: {
    installed: RPM_INSTALLED,
    refresh: null,
    available: 'timeout 300 yum -q -y list available "$1" >/dev/null',
    install: 'timeout 1800 yum -y install "$@"',
  },
  dnf: {
    installed: RPM_INSTALLED,
    refresh: null,
    available: 'timeout 300 dnf -q -y list --available "$1" >/dev/null',
    install: 'timeout 1800 dnf -y install "$@"',
  },
  zypper: {
    installed: RPM_INSTALLED,
    refresh: null,
    // zypper says "No matching items found." on stdout: kept, on stderr, as the others' words are.
    available: 'timeout 300 zypper --non-interactive search --match-exact "$1" >&2',
    install: 'timeout 1800 zypper --non-interactive install "$@"',
  },
};

/** Shell functions pkg_installed, pkg_refresh(_once), pkg_available, pkg_install for `pm`. */
export function packageFunctionLines(pm: PackageManager): string[] {
  const c = COMMANDS[pm];
  return [
    `# Package manager: ${pm}.`,
    'pkg_installed() {',
    `  ${c.installed}`,
    '}',
    'pkg_refresh() {',
    `  ${c.refresh ?? ':'}`,
    '}',
    '# Once per script, and not fatal: cached lists may still do.',
    'pkg_refreshed=no',
    'pkg_refresh_once() {',
    '  [ "$pkg_refreshed" = yes ] && return 0',
    '  pkg_refreshed=yes',
    '  pkg_refresh || echo "toa-lab: refreshing the package lists failed; using the cached ones" >&2',
    '}',
    'pkg_available() {',
    `  ${c.available}`,
    '}',
    'pkg_install() {',
    `  ${c.install}`,
    '}',
  ];
}

/**
 * Lines that install `pkg` unless it is there, failing with `die` and `why` if the package
 * manager cannot. Needs packageFunctionLines earlier in the script.
 */
export function ensurePackageLines(pkg: string, why: string): string[] {
  return [
    `if ! pkg_installed ${pkg}; then`,
    '  pkg_refresh_once',
    `  pkg_install ${pkg} || die 1 "cannot install ${pkg} (${why})"`,
    'fi',
  ];
}
