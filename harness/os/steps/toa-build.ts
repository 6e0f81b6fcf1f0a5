import type { ProcedureStep, RenderContext } from '../procedure.ts';
import { EXIT_CODES, shellQuote, shScript } from '../shell.ts';

/** Huawei guide, "Compile the module" (kernel ≥ 3.0) or steps 1–7 of the 2.6.32 procedure. */
export function renderToaBuild(context: RenderContext): ProcedureStep {
  return context.profile.toaInstall === 'patched-kernel' ? patchedKernelBuild(context) : outOfTreeBuild(context);
}

/**
 * Lines that set `build_dir` to where the Makefile is: the Huawei repository keeps it in
 * src/ (the guide's `cd src; make`), toa-lab's native/toa at the top.
 */
export function locateBuildDirLines(sourceDir: string): string[] {
  const src = shellQuote(sourceDir);
  return [
    `src=${src}`,
    `[ -d "$src" ] || die ${EXIT_CODES.precondition} "TOA source not found in $src: push it there first"`,
    'if [ -f "$src/Makefile" ]; then',
    '  build_dir=$src',
    'elif [ -f "$src/src/Makefile" ]; then',
    '  build_dir=$src/src',
    'else',
    `  die ${EXIT_CODES.precondition} "no Makefile in $src or $src/src"`,
    'fi',
  ];
}

function outOfTreeBuild({ profile, sourceDir, modulePath }: RenderContext): ProcedureStep {
  const ko = shellQuote(modulePath);
  const body = [
    ...locateBuildDirLines(sourceDir),
    // The log stays in the guest as evidence; the guide's two known failure causes get a name.
    'log="$src/toa-lab-build.log"',
    'if ! make -C "$build_dir" >"$log" 2>&1; then',
    '  cat "$log" >&2',
    "  if grep -q 'not supported by the compiler' \"$log\"; then",
    `    die ${EXIT_CODES.failure} "make failed: gcc is older than this kernel's configuration needs (the guide: upgrade gcc)"`,
    '  fi',
    `  die ${EXIT_CODES.failure} "make -C $build_dir failed (output above, log in $log)"`,
    'fi',
    'cat "$log"',
    `[ -f "$build_dir/toa.ko" ] || die ${EXIT_CODES.failure} "make succeeded but generated no toa.ko in $build_dir"`,
    '# Every later step (load, autoload) names one path, like the guide\'s /root/toa/toa.ko.',
    `[ "$build_dir" = "$src" ] || cp "$build_dir/toa.ko" ${ko}`,
    'release=$(uname -r)',
    `vermagic=$(modinfo -F vermagic ${ko})`,
    'case "$vermagic" in',
    '  "$release "*) ;;',
    `  *) die ${EXIT_CODES.failure} "${modulePath} was built for \${vermagic%% *}, not for the running kernel $release" ;;`,
    'esac',
    `echo "toa-lab: built ${modulePath} for $release"`,
  ];
  return {
    id: 'toa-build',
    name: `Build toa.ko in ${sourceDir} (make)`,
    interpreter: '/bin/sh',
    script: shScript(`build toa.ko for ${profile.displayName}`, body),
    verify: shScript(`verify toa.ko for ${profile.displayName}`, [
      `[ -f ${ko} ] || die ${EXIT_CODES.failure} "${modulePath} is missing"`,
      `vermagic=$(modinfo -F vermagic ${ko})`,
      'case "$vermagic" in',
      '  "$(uname -r) "*) ;;',
      `  *) die ${EXIT_CODES.failure} "${modulePath} does not match the running kernel: $vermagic" ;;`,
      'esac',
    ]),
  };
}

/** The LVS kernel tree the Huawei guide patches for CentOS 6.8. */
const LVS_KERNEL = {
  tarball: 'Linux-2.6.32-220.23.1.el6.x86_64.rs.src.tar.gz',
  tree: 'linux-2.6.32-220.23.1.el6.x86_64.rs',
  url: 'http://kb.linuxvirtualserver.org/images/3/34/Linux-2.6.32-220.23.1.el6.x86_64.rs.src.tar.gz',
} as const;

const GRUB_CONF = '/boot/grub/grub.conf';

/**
 * The guide's 2.6.32 path, steps 1–7. Departures, each because the guide's text cannot be
 * run as written:
 * - "#define TCPOPT_TOA200 → TCPOPT_TOA254": the space was lost in the guide's formatting;
 *   the define is `TCPOPT_TOA 200`, rewritten whatever whitespace it has.
 * - `echo -e '\n# toa\nCONFIG_TOA=m'` becomes printf: sh's echo need not know -e.
 * - `yes '' | make oldconfig` before `make`: the .config edits can make new options visible,
 *   and kbuild would ask about them on a terminal the harness does not have.
 * - grub.conf is edited by sed instead of an editor, and checked afterwards.
 * Each edit is idempotent, so a re-run after a failure continues where it stopped.
 */
function patchedKernelBuild({ profile, sourceDir }: RenderContext): ProcedureStep {
  const body = [
    `src=${shellQuote(sourceDir)}`,
    `tarball=${LVS_KERNEL.tarball}`,
    `tree=${LVS_KERNEL.tree}`,
    'mkdir -p "$src"',
    'cd "$src"',
    '# 1-2. The kernel source package: pushed by the harness, else downloaded as the guide says.',
    'if [ ! -d "$tree" ]; then',
    '  if [ ! -f "$tarball" ]; then',
    `    url=${LVS_KERNEL.url}`,
    '    if command -v curl >/dev/null 2>&1; then',
    `      curl -fsSL --max-time 1800 -o "$tarball.part" "$url" || die ${EXIT_CODES.failure} "cannot download $url"`,
    '    elif command -v wget >/dev/null 2>&1; then',
    `      wget -q -T 60 -O "$tarball.part" "$url" || die ${EXIT_CODES.failure} "cannot download $url"`,
    '    else',
    `      die ${EXIT_CODES.precondition} "$src/$tarball is missing and neither curl nor wget is installed"`,
    '    fi',
    '    mv "$tarball.part" "$tarball"',
    '  fi',
    `  tar xzf "$tarball" || die ${EXIT_CODES.failure} "cannot unpack $src/$tarball"`,
    'fi',
    `[ -d "$tree" ] || die ${EXIT_CODES.failure} "$tarball did not unpack to $src/$tree"`,
    'cd "$tree"',
    '# 3.2. TOA option kind 200 (LVS) -> 254 (Huawei ELB).',
    "sed -i 's/^#define[[:space:]]\\{1,\\}TCPOPT_TOA[[:space:]].*$/#define TCPOPT_TOA 254/' net/toa/toa.h",
    `grep -q '^#define TCPOPT_TOA 254$' net/toa/toa.h || die ${EXIT_CODES.failure} "net/toa/toa.h has no TCPOPT_TOA define to change"`,
    '# 3.3. IPv6 built into the kernel, TOA as a module.',
    "sed -i 's/CONFIG_IPV6=m/CONFIG_IPV6=y/g' .config",
    "grep -q '^CONFIG_TOA=m$' .config || printf '\\n# toa\\nCONFIG_TOA=m\\n' >> .config",
    '# 3.4. A description at the end of EXTRAVERSION, shown by uname -r.',
    "grep -q '^EXTRAVERSION =.*-toa$' Makefile || sed -i 's/^EXTRAVERSION =\\(.*\\)$/EXTRAVERSION =\\1-toa/' Makefile",
    `grep -q '^EXTRAVERSION =.*-toa$' Makefile || die ${EXIT_CODES.failure} "the kernel Makefile has no EXTRAVERSION line"`,
    `yes '' | make oldconfig >/dev/null || die ${EXIT_CODES.failure} "make oldconfig failed"`,
    '# 4. make -j n, n = number of vCPUs.',
    'jobs=$(getconf _NPROCESSORS_ONLN)',
    `make -j "$jobs" || die ${EXIT_CODES.failure} "building the kernel failed"`,
    '# 5-6. Install the modules and the kernel.',
    `make modules_install || die ${EXIT_CODES.failure} "make modules_install failed"`,
    `make install || die ${EXIT_CODES.failure} "make install failed"`,
    `# 7. Boot the new kernel (entry 0) with nohz=off (else CPU0 may be overloaded).`,
    `grub=${GRUB_CONF}`,
    "sed -i 's/^default=[0-9]*$/default=0/' \"$grub\"",
    "sed -i '/^[[:space:]]*kernel[[:space:]].*vmlinuz-[^[:space:]]*-toa/{/nohz=off/!s/$/ nohz=off/;}' \"$grub\"",
    "first_kernel=$(awk '$1 == \"kernel\" { print; exit }' \"$grub\")",
    'case "$first_kernel" in',
    '  *vmlinuz-*-toa*nohz=off*) ;;',
    `  *) die ${EXIT_CODES.failure} "$grub: entry 0 is not the -toa kernel with nohz=off: $first_kernel" ;;`,
    'esac',
    `grep -q '^default=0$' "$grub" || die ${EXIT_CODES.failure} "$grub: default is not 0"`,
    'echo "toa-lab: the -toa kernel is installed; reboot to run it"',
  ];
  return {
    id: 'toa-build',
    name: 'Build and install the LVS 2.6.32 kernel with TOA (CONFIG_TOA=m)',
    interpreter: '/bin/sh',
    script: shScript(`patched kernel with TOA for ${profile.displayName}`, body),
    verify: shScript(`verify the -toa kernel runs on ${profile.displayName}`, [
      'case "$(uname -r)" in',
      '  *-toa*) ;;',
      `  *) die ${EXIT_CODES.failure} "running $(uname -r), not the -toa kernel" ;;`,
      'esac',
      `grep -qw 'nohz=off' /proc/cmdline || die ${EXIT_CODES.failure} "the kernel command line lacks nohz=off"`,
    ]),
    rebootAfter: true,
  };
}
