import type { RenderContext } from '../procedure.ts';
import type { GuestFile } from '../shell.ts';

/**
 * What one VIP method renders, in the guide's terms: the files it creates, the command that
 * activates them, and its cloud-init UserData form. steps/vip.ts assembles the scripts.
 */
export interface VipRendering {
  /** For the step's name, e.g. "ifcfg-lo:N + ifup". */
  name: string;
  /** The configuration files, exactly as the guide writes them. */
  files: GuestFile[];
  /** POSIX sh lines run before the files are written (install a package, check a precondition). */
  prepare: string[];
  /** POSIX sh lines that bring the VIPs up: the guide's activation command. */
  activate: string[];
  /** The guide's UserData commands (bash, after `#!/bin/bash`); null when the guide has none. */
  userData: string[] | null;
}

/** The guide's alias names: the first VIP on lo:1, the next on lo:2, … */
export function loLabel(index: number): string {
  return `lo:${index + 1}`;
}

/**
 * The argument of the guide's `echo -e "…"` that writes `content`: newlines as `\n`, the
 * final one left to echo. Only characters with no meaning inside double quotes are allowed,
 * which VIPs and the guides' files satisfy.
 */
export function echoEArgument(content: string, what: string): string {
  const body = content.replace(/\n$/, '');
  if (/["$`\\!]/.test(body)) throw new Error(`${what}: cannot be written with echo -e "…" (contains a shell-special character)`);
  return body.replaceAll('\n', '\\n');
}

/** `sudo ` when the guide's row writes it, for UserData lines. */
export function sudoPrefix(sudo: boolean): string {
  return sudo ? 'sudo ' : '';
}

/**
 * ShellCheck flags `sudo echo … > file` (SC2024: the redirect is not done by sudo). The
 * line is the guide's; UserData runs as root, so sudo changes nothing and the line works.
 */
export const SUDO_REDIRECT_DIRECTIVE = "# shellcheck disable=SC2024 # the guide's line; UserData runs as root, so sudo changes nothing";

export type VipRenderer = (vips: readonly string[], context: RenderContext) => VipRendering;
