/**
 * Where a guide step's time goes, line by line: with TOA_LAB_STEP_TRACE=1 each step's script
 * runs under `bash -x` with bash's own clock in PS4 (`$EPOCHREALTIME`: no fork per line, which
 * under TCG would cost more than many of the lines it times), so its stderr holds a timestamp
 * before every command. A line's time is the gap to the next timestamp. Off by default: the
 * trace is evidence for a benchmark (bench/full-os-steps.ts), not for a verdict, and it
 * lengthens stderr.
 */
export const STEP_TRACE_ENV = 'TOA_LAB_STEP_TRACE';

const MARK = '+toa-lab-trace ';

export function stepTraceEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[STEP_TRACE_ENV] === '1';
}

/**
 * The command that runs a step's script: traced when asked, and when the guest has bash 5
 * (EPOCHREALTIME). PS4 is set inside bash, not passed in the environment: bash ignores an
 * inherited PS4 when it runs as root. The script is sourced by that bash (its `exit` ends it),
 * then a last mark gives the script's last line a time; the script's exit code is kept.
 */
export function stepCommand(interpreter: '/bin/sh' | '/bin/bash', path: string, trace: boolean): string {
  if (!trace) return `${interpreter} ${path}`;
  const traced = `bash -c 'PS4=${MARK.replace(' ', '\\ ')}\\$EPOCHREALTIME\\ ; set -x; . ${path}'`;
  const end = `bash -c 'echo "${MARK}$EPOCHREALTIME (end of script)" >&2'`;
  return `if [ -n "$(bash -c 'echo $EPOCHREALTIME' 2>/dev/null)" ]; then ${traced}; rc=$?; ${end}; exit $rc; else ${interpreter} ${path}; fi`;
}

export interface TracedLine {
  command: string;
  seconds: number;
}

/**
 * Pure: the traced commands of a step's stderr with the time until the next one (the script's
 * last line: until the end mark). Nested lines (`++`, a command substitution's) count as their
 * own; lines without the mark are the script's own output.
 */
export function tracedLines(stderr: string): TracedLine[] {
  const marks: Array<{ at: number; command: string }> = [];
  for (const line of stderr.split('\n')) {
    const match = /^\++toa-lab-trace (\d+\.\d+) (.*)$/.exec(line);
    if (match) marks.push({ at: Number(match[1]), command: match[2]! });
  }
  return marks.map((mark, i) => {
    const next = marks[i + 1]?.at;
    return { command: mark.command, seconds: next === undefined ? 0 : Math.max(0, next - mark.at) };
  });
}

/** The slowest traced lines, slowest first. */
export function slowestLines(stderr: string, count = 3): TracedLine[] {
  return tracedLines(stderr)
    .sort((a, b) => b.seconds - a.seconds)
    .slice(0, count);
}

/** The step's stderr without the trace: what its messages and failure signatures read. */
export function untraced(stderr: string): string {
  return stderr
    .split('\n')
    .filter((line) => !/^\++toa-lab-trace /.test(line))
    .join('\n');
}
