import { shellQuote } from '../remote/guest-shell.ts';

/**
 * Assembling the guest scripts: one preamble for all of them, files written by heredoc,
 * and the exit codes the harness maps to verdicts.
 */

export { shellQuote };

/** Exit codes every rendered script uses, so a failure is a verdict rather than a guess. */
export const EXIT_CODES = {
  /** The step itself failed (package install, make, insmod, ifup, ...). */
  failure: 1,
  /** The package manager cannot provide the kernel development package for `uname -r`. */
  noKernelDevel: 3,
  /** Something an earlier step or the image should have provided is missing. */
  precondition: 4,
} as const;

/** A file a step writes; listed so tests and reports can check its exact content. */
export interface GuestFile {
  path: string;
  content: string;
  mode?: number;
}

const HEREDOC_END = 'TOA_LAB_EOF';

/**
 * A complete POSIX sh script: `set -eu`, sbin on PATH (ssh and su give root a PATH without
 * it on some distributions), and `die CODE MESSAGE` which prints `toa-lab: MESSAGE`.
 */
export function shScript(title: string, body: readonly string[]): string {
  return [
    '#!/bin/sh',
    `# toa-lab: ${title}`,
    `# Rendered by harness/os; run as root. Exit codes: ${EXIT_CODES.failure} failure,`,
    `# ${EXIT_CODES.noKernelDevel} no kernel development package, ${EXIT_CODES.precondition} precondition not met.`,
    'set -eu',
    'PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"',
    'export PATH',
    '',
    'die() {',
    '  code=$1',
    '  shift',
    '  echo "toa-lab: $*" >&2',
    '  exit "$code"',
    '}',
    '',
    ...body,
    '',
  ].join('\n');
}

/** Lines that write `file` exactly (quoted heredoc: nothing in it is expanded) and set its mode. */
export function writeFileLines(file: GuestFile): string[] {
  if (!file.content.endsWith('\n')) throw new Error(`${file.path}: content must end with a newline`);
  if (file.content.split('\n').includes(HEREDOC_END)) throw new Error(`${file.path}: content contains the heredoc delimiter`);
  const path = shellQuote(file.path);
  const dir = file.path.slice(0, file.path.lastIndexOf('/')) || '/';
  return [
    `mkdir -p ${shellQuote(dir)}`,
    `cat > ${path} <<'${HEREDOC_END}'`,
    ...file.content.slice(0, -1).split('\n'),
    HEREDOC_END,
    ...(file.mode === undefined ? [] : [`chmod ${file.mode.toString(8).padStart(4, '0')} ${path}`]),
  ];
}

/** Octal text of a file mode, for messages and golden files. */
export function formatMode(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}

/**
 * Defines the shell function `listening`: exit 0 if TCP `port` is in LISTEN state. Reads
 * /proc/net/tcp{,6}, so it needs neither ss nor netstat (CentOS 6 to Debian 13 alike).
 */
export function listeningFunctionLines(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return [
    'listening() {',
    `  cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '$4 == "0A" && $2 ~ /:${hexPort}$/ { found = 1 } END { exit !found }'`,
    '}',
  ];
}

/** Polls `condition` once a second, running `eachTry` between polls, and runs `onTimeout` after `seconds`. */
export function waitUntilLines(condition: string, seconds: number, onTimeout: string, eachTry: readonly string[] = []): string[] {
  return [
    'waited=0',
    `until ${condition}; do`,
    ...eachTry.map((line) => `  ${line}`),
    `  [ "$waited" -lt ${seconds} ] || ${onTimeout}`,
    '  sleep 1',
    '  waited=$((waited + 1))',
    'done',
  ];
}
