import { spawn } from 'node:child_process';
import { CommandFailedError, succeeded, type CommandResult } from './command-result.ts';

export interface HostCommandOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** Throw CommandFailedError unless the command exits 0 (default true). */
  check?: boolean;
  /** Called with each chunk of output as it arrives (progress for long builds). */
  onOutput?: (chunk: string) => void;
  /** Written to the program's stdin (which is otherwise closed), e.g. an sfdisk script. */
  input?: string;
}

/** Runs a program on the host (no shell) and returns the execa-shaped result. */
export function runHostCommand(
  file: string,
  args: readonly string[],
  options: HostCommandOptions = {},
): Promise<CommandResult> {
  const started = Date.now();
  const command = [file, ...args].map(quoteForDisplay).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (options.input !== undefined) {
      child.stdin?.on('error', () => {}); // a program that exits without reading: its exit status says why
      child.stdin?.end(options.input);
    }
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, options.timeoutMs);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      options.onOutput?.(chunk);
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      options.onOutput?.(chunk);
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${file}: ${error.message}`));
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      const result: CommandResult = {
        command,
        exitCode,
        signal,
        stdout,
        stderr,
        timedOut,
        durationMs: Date.now() - started,
      };
      if ((options.check ?? true) && !succeeded(result)) reject(new CommandFailedError(result));
      else resolve(result);
    });
  });
}

function quoteForDisplay(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
