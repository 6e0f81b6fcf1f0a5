/**
 * What one `insmod` of a TOA module did, decided on what the guest shows:
 * insmod's exit code, whether the module is in /proc/modules (and its
 * /sys/module/<name>/initstate), the module's own "loaded" line, and the
 * kernel's words about its init.
 *
 * Why a third state beside loaded / refused: an init that returns a positive
 * value is not a failure to the kernel. do_init_module() only warns
 * ("'toa'->init suspiciously returned 1, it should follow 0/-E convention …
 * loading module anyway") and makes the module live, with whatever the init
 * had hooked before it stopped. insmod exits 0. The module is loaded, but
 * never said so.
 */
export type ModuleLoadState =
  /** insmod exit 0, listed, and the module's "loaded" line was printed. */
  | 'loaded'
  /** insmod failed and the module is not listed (vermagic, a bad parameter, an init that returned -E…). */
  | 'refused'
  /** insmod exit 0 and the module is listed, but its init never printed "loaded": it stopped half-way. */
  | 'init-incomplete'
  /** insmod failed, yet the module is listed (e.g. "File exists": a copy was already loaded). */
  | 'already-loaded';

export interface ModuleLoadEvidence {
  insmodExitCode: number;
  /** The module's name is in /proc/modules after insmod. */
  listed: boolean;
  /** The module printed its "loaded" line during this insmod. */
  loadedLine: boolean;
  /** The kernel log of this insmod (dmesg after `dmesg -c` before it). */
  kernelLog: string;
}

/** The kernel's warning about a positive init return, as it printed it. */
export interface PositiveInitReturn {
  module: string;
  value: number;
  line: string;
}

export interface ModuleLoadResult {
  state: ModuleLoadState;
  /** Set when the kernel said the init returned a positive value. */
  positiveReturn?: PositiveInitReturn;
}

export function classifyModuleLoad(evidence: ModuleLoadEvidence): ModuleLoadResult {
  const positiveReturn = findPositiveInitReturn(evidence.kernelLog);
  const state: ModuleLoadState =
    evidence.insmodExitCode !== 0
      ? evidence.listed
        ? 'already-loaded'
        : 'refused'
      : !evidence.listed
        ? 'refused' // exit 0 and gone: nothing a scenario could use
        : evidence.loadedLine
          ? 'loaded'
          : 'init-incomplete';
  return positiveReturn ? { state, positiveReturn } : { state };
}

/**
 * The kernel's own line for a positive init return. Two wordings:
 * - Debian's 5.10, 6.1 and 6.12 (measured), followed by "do_init_module: loading module
 *   anyway..." and a stack dump (no WARNING: line, so no kernel fault):
 *   `do_init_module: 'toa'->init suspiciously returned 1, it should follow 0/-E convention`
 * - Debian's 7.2 (measured; the warning reworded in "<module>: <what>" style, no stack dump):
 *   `toa: init suspiciously returned 1, it should follow 0/-E convention`
 * Either way the module is made live.
 */
export function findPositiveInitReturn(kernelLog: string): PositiveInitReturn | undefined {
  for (const raw of kernelLog.split('\n')) {
    const line = raw.replace(/^\[\s*[\d.]+\]\s*/, '').trim();
    const match =
      /do_init_module: '([^']+)'->init suspiciously returned (\d+)/.exec(line) ?? /^([\w-]+): init suspiciously returned (\d+)/.exec(line);
    if (match) return { module: match[1]!, value: Number(match[2]), line };
  }
  return undefined;
}
