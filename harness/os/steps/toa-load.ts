import type { ProcedureStep, RenderContext } from '../procedure.ts';
import { EXIT_CODES, shellQuote, shScript } from '../shell.ts';

/** The guide's evidence that the module is in: `dmesg | grep TOA` shows this. */
export const TOA_LOADED_MESSAGE = 'TOA: toa loaded';

/**
 * Huawei guide, "Load the module": `insmod toa.ko` (out-of-tree) or `modprobe toa` in the
 * -toa kernel (2.6.32 path), then `dmesg | grep TOA` must show "TOA: toa loaded".
 * The message must be new: a line left by an earlier load proves nothing about this one.
 */
export function renderToaLoad({ profile, modulePath, options }: RenderContext): ProcedureStep {
  const params = (options.moduleParams ?? []).map(shellQuote);
  const patched = profile.toaInstall === 'patched-kernel';
  const ko = shellQuote(modulePath);
  // Preconditions first: nothing is unloaded unless there is something to load instead.
  const precondition = patched
    ? [
        'case "$(uname -r)" in',
        '  *-toa*) ;;',
        `  *) die ${EXIT_CODES.precondition} "running $(uname -r), not the -toa kernel: reboot after toa-build" ;;`,
        'esac',
      ]
    : [`[ -f ${ko} ] || die ${EXIT_CODES.precondition} "${modulePath} is missing: run toa-build first"`];
  const load = patched
    ? [`modprobe ${['toa', ...params].join(' ')} || die ${EXIT_CODES.failure} "modprobe toa failed"`]
    : [
        `insmod ${[ko, ...params].join(' ')} || {`,
        '  dmesg | tail -n 5 >&2',
        `  die ${EXIT_CODES.failure} "insmod ${modulePath} failed"`,
        '}',
      ];
  const body = [
    ...precondition,
    "if grep -q '^toa ' /proc/modules; then",
    '  # Left by an earlier run: insmod would fail with "File exists".',
    `  rmmod toa || die ${EXIT_CODES.failure} "toa is already loaded and cannot be removed"`,
    'fi',
    `before=$(dmesg | grep -c '${TOA_LOADED_MESSAGE}' || true)`,
    ...load,
    'dmesg | grep TOA || true',
    `after=$(dmesg | grep -c '${TOA_LOADED_MESSAGE}' || true)`,
    `[ "$after" -gt "$before" ] || die ${EXIT_CODES.failure} "toa is loaded but dmesg shows no new '${TOA_LOADED_MESSAGE}'"`,
  ];
  return {
    id: 'toa-load',
    name: patched ? 'Load the module (modprobe toa)' : `Load the module (insmod ${modulePath})`,
    interpreter: '/bin/sh',
    script: shScript(`load toa on ${profile.displayName}`, body),
    verify: moduleLoadedScript(`verify toa is loaded on ${profile.displayName}`),
  };
}

/** Fails unless the toa module is loaded: the evidence for toa-load and, after a reboot, autoload. */
export function moduleLoadedScript(title: string): string {
  return shScript(title, [`grep -q '^toa ' /proc/modules || die ${EXIT_CODES.failure} "the toa module is not loaded"`, 'echo "toa-lab: toa is loaded"']);
}
