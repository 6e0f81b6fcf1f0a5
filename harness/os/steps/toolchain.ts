import { packageFunctionLines } from '../package-managers.ts';
import type { ProcedureStep, RenderContext } from '../procedure.ts';
import { EXIT_CODES, shScript } from '../shell.ts';

/**
 * Huawei guide, "Prepare the compilation environment": gcc, make and the kernel
 * development package matching the running kernel exactly.
 *
 * - The devel package is checked first: without one for `uname -r` nothing can be built, and
 *   "the package manager cannot provide it" is its own verdict (exit 3, "toa-lab: no
 *   kernel-devel package for <release>"), the guide's "contact the image provider".
 * - Nothing already installed is reinstalled, so an offline image that carries its toolchain
 *   (the lab's Debian images) never touches the network.
 * - Finally /lib/modules/<release>/build/Makefile must exist: that is what `make` uses, and
 *   kernel-default-devel (SUSE), which the guide names without a version, may be for another
 *   kernel than the running one.
 */
export function renderToolchain({ profile }: RenderContext): ProcedureStep {
  const { packages, kernelDevel } = profile.toolchain;
  const noDevel = (detail: string) => `die ${EXIT_CODES.noKernelDevel} "no kernel-devel package for $release (${detail})"`;
  const body = [
    ...packageFunctionLines(profile.packageManager),
    '',
    'set --',
    ...(kernelDevel === null
      ? ['# The patched-kernel path builds the whole kernel: no development package needed.']
      : [
          'release=$(uname -r)',
          `# As the guide writes it: ${kernelDevel}`,
          `devel_pkg="${kernelDevel.replace('$(uname -r)', '${release}')}"`,
          'if ! pkg_installed "$devel_pkg"; then',
          '  pkg_refresh_once',
          `  pkg_available "$devel_pkg" || ${noDevel(`$devel_pkg is not installed and ${profile.packageManager} cannot provide it`)}`,
          '  set -- "$devel_pkg"',
          'fi',
        ]),
    `for pkg in ${packages.join(' ')}; do`,
    '  pkg_installed "$pkg" || set -- "$@" "$pkg"',
    'done',
    'if [ "$#" -gt 0 ]; then',
    '  pkg_refresh_once',
    '  echo "toa-lab: installing $*"',
    `  pkg_install "$@" || die ${EXIT_CODES.failure} "installing $* with ${profile.packageManager} failed"`,
    'else',
    '  echo "toa-lab: toolchain already installed"',
    'fi',
    ...(kernelDevel === null
      ? []
      : [
          '[ -f "/lib/modules/$release/build/Makefile" ] ||',
          `  ${noDevel('/lib/modules/$release/build/Makefile is missing with $devel_pkg installed')}`,
        ]),
    'for tool in gcc make; do',
    `  command -v "$tool" >/dev/null 2>&1 || die ${EXIT_CODES.failure} "$tool is not on PATH after installing it"`,
    'done',
  ];
  const devel = kernelDevel === null ? '' : `, ${kernelDevel}`;
  return {
    id: 'toolchain',
    name: `Install ${packages.join(', ')}${devel}`,
    interpreter: '/bin/sh',
    script: shScript(`toolchain for ${profile.displayName}`, body),
    verify: shScript(`verify toolchain for ${profile.displayName}`, [
      'for tool in gcc make; do',
      `  command -v "$tool" >/dev/null 2>&1 || die ${EXIT_CODES.failure} "$tool is not installed"`,
      'done',
      ...(kernelDevel === null
        ? []
        : [
            'release=$(uname -r)',
            '[ -f "/lib/modules/$release/build/Makefile" ] ||',
            `  ${noDevel('/lib/modules/$release/build/Makefile is missing')}`,
          ]),
    ]),
  };
}
