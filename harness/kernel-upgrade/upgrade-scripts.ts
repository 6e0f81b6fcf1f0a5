import { REPOSITORY_URL } from '../os/procedure.ts';
import { EXIT_CODES, shellQuote, shScript } from '../os/shell.ts';

/**
 * The guest side of the kernel upgrade, as scripts run as root (kept in the guest as
 * evidence, like the guide's steps): what an operator of an installed Debian system types
 * to take the kernel the security pocket brings — `apt-get update`, then the kernel and the
 * headers the guide needs — and the checks that the upgrade really left a bootable kernel.
 */
export interface KernelUpgradeRequest {
  /** The pocket the new kernel comes from, as the system's sources.list names it (`bookworm-security`). */
  pocket: string;
  /** The metapackages' version in that pocket (`6.1.192-3`): exactly that upgrade, or apt's own refusal. */
  version: string;
  /** `uname -r` of the kernel it installs (`6.1.0-57-amd64`). */
  release: string;
}

const SAFE_WORD = /^[A-Za-z0-9][A-Za-z0-9.+~:_-]*$/;

export function renderKernelUpgradeScript(request: KernelUpgradeRequest): string {
  for (const [field, value] of Object.entries(request)) {
    if (!SAFE_WORD.test(value)) throw new Error(`kernel upgrade: ${field} '${value}' is not a package word ([A-Za-z0-9.+~:_-])`);
  }
  const { pocket, version, release } = request;
  const F = EXIT_CODES.failure;
  return shScript(`kernel upgrade from ${pocket}: linux-image-amd64 and linux-headers-amd64 ${version} (${release})`, [
    `pocket=${shellQuote(pocket)}`,
    `version=${shellQuote(version)}`,
    `release=${shellQuote(release)}`,
    '# The installed system names the pocket the upgrade comes from (Debian\'s installer writes it).',
    'found=no',
    'for list in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do',
    '  [ -f "$list" ] || continue',
    '  if awk -v p="$pocket" \'$1 == "deb" { for (i = 3; i <= NF; i++) if ($i == p) f = 1 } END { exit !f }\' "$list"; then found=yes; fi',
    'done',
    `[ "$found" = yes ] || die ${EXIT_CODES.precondition} "no apt source names $pocket: nothing to upgrade from"`,
    'echo "toa-lab: running $(uname -r); kernels installed before: $(dpkg-query -W -f=\'${Package} ${Version}, \' \'linux-image-[0-9]*\')"',
    '# apt-get update exits 0 when a fetch failed: its E:/W: lines say so.',
    'apt-get update -q >/tmp/toa-lab-apt-update.log 2>&1 || true',
    'cat /tmp/toa-lab-apt-update.log',
    `if grep -q -e '^E:' -e '^W: Failed to fetch' /tmp/toa-lab-apt-update.log; then die ${F} "apt-get update failed: $(grep -e '^E:' -e '^W:' /tmp/toa-lab-apt-update.log | head -n 1)"; fi`,
    'apt-cache policy linux-image-amd64 linux-headers-amd64',
    '# --no-install-recommends: the image was built without recommends (apparmor, firmware);',
    '# the kernel and headers are the whole upgrade, as the guide needs them.',
    'DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \\',
    '  -o Dpkg::Options::=--force-confold "linux-image-amd64=$version" "linux-headers-amd64=$version" ||',
    `  die ${F} "apt-get install linux-image-amd64=$version linux-headers-amd64=$version failed"`,
    'for f in "/boot/vmlinuz-$release" "/boot/initrd.img-$release" "/lib/modules/$release/build/Makefile"; do',
    `  [ -e "$f" ] || die ${F} "the upgrade left no $f"`,
    'done',
    '# zz-update-grub runs update-grub when grub.cfg exists: the new kernel must be listed.',
    `grep -q "vmlinuz-$release" /boot/grub/grub.cfg || die ${F} "/boot/grub/grub.cfg does not list vmlinuz-$release after the upgrade"`,
    'echo "toa-lab: installed linux-image-$release and linux-headers-$release at $version from $pocket; grub.cfg lists it"',
  ]);
}

/** The hosts a sources.list names (what the run's package proxy must let the guest reach). */
export function sourcesListHosts(sourcesList: string): string[] {
  const hosts = new Set<string>();
  for (const line of sourcesList.split('\n')) {
    const words = line.trim().split(/\s+/);
    if (words[0] !== 'deb' && words[0] !== 'deb-src') continue;
    const uri = words.slice(1).find((w) => !w.startsWith('['));
    if (!uri || !REPOSITORY_URL.test(uri)) throw new Error(`sources.list entry '${line.trim()}': no http(s) URI the proxy could allow`);
    hosts.add(new URL(uri).hostname);
  }
  if (hosts.size === 0) throw new Error('sources.list names no repository');
  return [...hosts];
}
