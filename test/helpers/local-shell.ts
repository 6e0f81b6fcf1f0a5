import { spawn } from 'node:child_process';
import { CommandFailedError, type CommandResult } from '../../harness/exec/command-result.ts';
import type { GuestShell } from '../../harness/remote/guest-shell.ts';

/** A GuestShell on this machine's /bin/sh: the real command lines a guest would run, run here. */
export class LocalShell implements GuestShell {
  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  run(command: string): Promise<CommandResult> {
    const started = Date.now();
    return new Promise((resolve) => {
      const child = spawn('/bin/sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'], env: this.env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('close', (exitCode) => resolve({ command, exitCode, signal: null, stdout, stderr, timedOut: false, durationMs: Date.now() - started }));
    });
  }

  async check(command: string): Promise<CommandResult> {
    const result = await this.run(command);
    if (result.exitCode !== 0) throw new CommandFailedError(result);
    return result;
  }
}
