/**
 * One result shape for every command run anywhere (host process, guest agent,
 * later SSH): modelled on execa's result so a report can print any of them the
 * same way.
 */
export interface CommandResult {
  /** The command as run, for the report. */
  command: string;
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  durationMs: number;
}

export class CommandFailedError extends Error {
  constructor(readonly result: CommandResult) {
    const why = result.timedOut
      ? `timed out after ${result.durationMs} ms`
      : result.signal
        ? `killed by ${result.signal}`
        : `exit code ${result.exitCode}`;
    const tail = (result.stderr || result.stdout).trim().split('\n').slice(-15).join('\n');
    super(`command failed (${why}): ${result.command}${tail ? `\n${tail}` : ''}`);
    this.name = 'CommandFailedError';
  }
}

export function succeeded(result: CommandResult): boolean {
  return result.exitCode === 0 && !result.timedOut;
}
