import { EXIT_CODES, shellQuote, shScript } from '../os/shell.ts';
import { CONFIG_TARGETS, type KernelSource } from './kernel-source.ts';

/**
 * The command parts of the guide's 2.6.32 procedure as POSIX sh scripts, run as
 * root in the kernel's build machine: in the guest itself (the guide's way; with
 * KVM a real user's path, over GuestShell) or on the host (here, where a TCG guest
 * would take hours to build a kernel). The file edits between them (toa.h,
 * .config, Makefile, grub.conf) are pure TypeScript (see the other files here),
 * applied through the same file access, so both places run the same procedure.
 * Every script is idempotent: a re-run after a failure continues.
 */

/** Debian packages a kernel build needs besides gcc, make and libc6-dev. */
export const KERNEL_BUILD_PACKAGES = ['flex', 'bison', 'bc', 'libelf-dev', 'libssl-dev'] as const;

const F = EXIT_CODES.failure;
const P = EXIT_CODES.precondition;

/** Step 1: unpack the tree into `workDir`; prints nothing but progress. */
export function renderObtainSourceScript(source: KernelSource, workDir: string): string {
  const head = [`work=${shellQuote(workDir)}`, 'mkdir -p "$work"', 'cd "$work"'];
  if (source.kind === 'lvs-tarball') {
    const file = source.location.slice(source.location.lastIndexOf('/') + 1);
    const remote = /^https?:\/\//.test(source.location);
    return shScript(`obtain the kernel tree (${file})`, [
      ...head,
      `tree=${shellQuote(source.tree)}`,
      `tarball=${shellQuote(remote ? file : source.location)}`,
      'if [ ! -d "$tree" ]; then',
      ...(remote
        ? [
            '  if [ ! -f "$tarball" ]; then',
            `    url=${shellQuote(source.location)}`,
            '    if command -v curl >/dev/null 2>&1; then',
            `      curl -fsSL --max-time 1800 -o "$tarball.part" "$url" || die ${F} "cannot download $url"`,
            '    elif command -v wget >/dev/null 2>&1; then',
            `      wget -q -T 60 -O "$tarball.part" "$url" || die ${F} "cannot download $url"`,
            '    else',
            `      die ${P} "$work/$tarball is missing and neither curl nor wget is installed"`,
            '    fi',
            '    mv "$tarball.part" "$tarball"',
            '  fi',
          ]
        : [`  [ -f "$tarball" ] || die ${P} "$tarball does not exist"`]),
      `  tar xzf "$tarball" || die ${F} "cannot unpack $tarball"`,
      'fi',
      `[ -d "$tree" ] || die ${F} "$tarball did not unpack to $work/$tree"`,
      `[ -f "$tree/net/toa/toa.h" ] || die ${F} "$work/$tree has no net/toa/toa.h: not a tree carrying TOA"`,
      `[ -f "$tree/.config" ] || die ${F} "$work/$tree has no .config"`,
      'echo "toa-lab: kernel tree in $work/$tree"',
    ]);
  }
  const pkg = `linux-source-${source.series}`;
  return shScript(`obtain the kernel tree (${pkg})`, [
    ...head,
    `pkg=${pkg}`,
    '# The tree, and what building it needs beyond gcc and make.',
    'set --',
    `for p in "$pkg" ${KERNEL_BUILD_PACKAGES.join(' ')}; do`,
    "  dpkg-query -W -f='${Status}' \"$p\" 2>/dev/null | grep -q 'install ok installed' || set -- \"$@\" \"$p\"",
    'done',
    'if [ "$#" -gt 0 ]; then',
    '  echo "toa-lab: apt-get install $*"',
    `  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" || die ${F} "apt-get install $* failed"`,
    'fi',
    "echo \"toa-lab: $pkg $(dpkg-query -W -f='${Version}' \"$pkg\")\"",
    'if [ ! -f "$pkg/Makefile" ]; then',
    '  rm -rf "$pkg"',
    `  tar -xJf "/usr/src/$pkg.tar.xz" || die ${F} "cannot unpack /usr/src/$pkg.tar.xz"`,
    'fi',
    `[ -f "$pkg/Makefile" ] || die ${F} "/usr/src/$pkg.tar.xz did not unpack to $work/$pkg"`,
    'echo "toa-lab: kernel tree in $work/$pkg"',
  ]);
}

/** After the in-tree TOA is in place: the base .config for Debian's tree (only if there is none yet). */
export function renderBaseConfigScript(treeDir: string): string {
  return shScript('base kernel configuration', [
    `cd ${shellQuote(treeDir)}`,
    'if [ -f .config ]; then',
    '  echo "toa-lab: .config exists; kept"',
    'else',
    `  make ${CONFIG_TARGETS.join(' ')} >/dev/null || die ${F} "make ${CONFIG_TARGETS.join(' ')} failed"`,
    `  echo "toa-lab: .config from make ${CONFIG_TARGETS.join(' ')}"`,
    'fi',
  ]);
}

/**
 * Step 3, after the .config edit: let kbuild settle the new values without a
 * terminal (the golden CentOS 6.8 script: `yes '' | make oldconfig`; olddefconfig
 * where the tree has it, 3.7+).
 */
export function renderResolveConfigScript(treeDir: string): string {
  return shScript('resolve the edited .config', [
    `cd ${shellQuote(treeDir)}`,
    'if grep -q olddefconfig scripts/kconfig/Makefile 2>/dev/null; then',
    `  make olddefconfig >/dev/null || die ${F} "make olddefconfig failed"`,
    'else',
    `  yes '' | make oldconfig >/dev/null || die ${F} "make oldconfig failed"`,
    'fi',
    "grep -E '^(CONFIG_TOA|CONFIG_IPV6|CONFIG_KPROBES|CONFIG_KRETPROBES)=' .config",
  ]);
}

export interface BuildScriptOptions {
  treeDir: string;
  /** `make -j <jobs>`: the guide's "number of vCPUs"; default: the machine's online CPUs. */
  jobs?: number;
}

/** Step 4 of the guide (its "make -j n"); the full log stays in the tree, the tail is the evidence. */
export function renderBuildScript({ treeDir, jobs }: BuildScriptOptions): string {
  return shScript('build the kernel (make -j n)', [
    `cd ${shellQuote(treeDir)}`,
    jobs === undefined ? 'jobs=$(getconf _NPROCESSORS_ONLN)' : `jobs=${jobs}`,
    'log=toa-lab-build.log',
    'echo "toa-lab: make -j $jobs"',
    'if ! make -j "$jobs" >"$log" 2>&1; then',
    '  tail -n 60 "$log" >&2',
    `  die ${F} "building the kernel failed (log: $PWD/$log)"`,
    'fi',
    'tail -n 4 "$log"',
    "if grep -E '^net/toa/[^:]+:[0-9]+:[0-9]+: (warning|error):' \"$log\" >&2; then",
    `  die ${F} "net/toa compiled with warnings (above)"`,
    'fi',
    `[ -f net/toa/toa.ko ] || die ${F} "make finished but net/toa/toa.ko was not built (CONFIG_TOA=m lost?)"`,
    'echo "toa-lab: built $(make -s kernelrelease) with net/toa/toa.ko"',
  ]);
}

export interface InstallScriptOptions {
  treeDir: string;
  /**
   * Staging root instead of the running system (host builds): modules go to
   * <root>/lib/modules, the kernel to <root>/boot, through `installKernelHome`.
   */
  stagingRoot?: string;
  /** A HOME whose bin/installkernel the kernel's install.sh prefers over /sbin/installkernel. */
  installKernelHome?: string;
}

/** Guide step 5: make modules_install (runs depmod for the new release). */
export function renderModulesInstallScript({ treeDir, stagingRoot }: InstallScriptOptions): string {
  return shScript('install the modules (make modules_install)', [
    `cd ${shellQuote(treeDir)}`,
    ...stageLines(stagingRoot),
    'release=$(make -s kernelrelease)',
    `make modules_install${stagingRoot === undefined ? '' : ' INSTALL_MOD_PATH="$stage"'} >toa-lab-modules-install.log 2>&1 || {`,
    '  tail -n 30 toa-lab-modules-install.log >&2',
    `  die ${F} "make modules_install failed"`,
    '}',
    'grep -E "net/toa|DEPMOD" toa-lab-modules-install.log || true',
    `[ -f "$root/lib/modules/$release/kernel/net/toa/toa.ko" ] || die ${F} "toa.ko is not in $root/lib/modules/$release/kernel/net/toa"`,
    `grep -q '^kernel/net/toa/toa.ko:' "$root/lib/modules/$release/modules.dep" || die ${F} "modules.dep does not list toa.ko"`,
    'echo "toa-lab: modules of $release in $root/lib/modules/$release"',
  ]);
}

/** Guide step 6: make install (the distribution's installkernel; here a staging one when staged). */
export function renderKernelInstallScript({ treeDir, stagingRoot, installKernelHome }: InstallScriptOptions): string {
  const env = installKernelHome === undefined ? '' : `HOME=${shellQuote(installKernelHome)} `;
  return shScript('install the kernel (make install)', [
    `cd ${shellQuote(treeDir)}`,
    ...stageLines(stagingRoot),
    'release=$(make -s kernelrelease)',
    `${env}make install${stagingRoot === undefined ? '' : ' INSTALL_PATH="$stage/boot"'} || die ${F} "make install failed"`,
    `[ -f "$root/boot/vmlinuz-$release" ] || die ${F} "make install left no $root/boot/vmlinuz-$release"`,
    'echo "toa-lab: installed $root/boot/vmlinuz-$release"',
  ]);
}

function stageLines(stagingRoot: string | undefined): string[] {
  return stagingRoot === undefined ? ["root=''"] : [`stage=${shellQuote(stagingRoot)}`, 'mkdir -p "$stage/boot"', 'root=$stage'];
}
