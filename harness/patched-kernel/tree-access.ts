import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { CommandResult } from '../exec/command-result.ts';
import { runHostCommand } from '../exec/run-host-command.ts';
import { shellQuote, type GuestShell } from '../remote/guest-shell.ts';

/**
 * Where the procedure's files live and its scripts run: the guest (the guide's
 * way; over GuestShell, for users with KVM) or the host (here). The edits read
 * and write through this, the scripts run through it: one procedure, two places.
 */
export interface BuildMachine {
  readonly where: 'host' | 'guest';
  readFile(path: string): Promise<string>;
  writeFile(path: string, content: string, mode?: number): Promise<void>;
  /** Runs a complete sh script; resolves whatever its exit code. */
  runScript(script: string, options: { timeoutMs: number }): Promise<CommandResult>;
}

/** The host, at the lowest CPU priority: the 2 cores are shared with other runs. */
export class HostMachine implements BuildMachine {
  readonly where = 'host';
  constructor(private readonly env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C' }) {}

  readFile(path: string): Promise<string> {
    return readFile(path, 'utf8');
  }

  async writeFile(path: string, content: string, mode?: number): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content, mode === undefined ? {} : { mode });
  }

  runScript(script: string, { timeoutMs }: { timeoutMs: number }): Promise<CommandResult> {
    return runHostCommand('nice', ['-n', '19', 'sh', '-c', script], { env: this.env, timeoutMs, check: false });
  }
}

/** A guest reached over GuestShell (serial agent or SSH). Files travel base64-encoded. */
export class GuestMachine implements BuildMachine {
  readonly where = 'guest';
  constructor(private readonly shell: GuestShell) {}

  async readFile(path: string): Promise<string> {
    return (await this.shell.check(`cat ${shellQuote(path)}`)).stdout;
  }

  async writeFile(path: string, content: string, mode?: number): Promise<void> {
    const encoded = Buffer.from(content, 'utf8').toString('base64');
    const target = shellQuote(path);
    const chmod = mode === undefined ? '' : ` && chmod ${mode.toString(8)} ${target}`;
    await this.shell.check(
      `mkdir -p ${shellQuote(dirname(path))} && printf '%s' '${encoded}' | base64 -d > ${target}.toa-lab-new && mv ${target}.toa-lab-new ${target}${chmod}`,
    );
  }

  runScript(script: string, { timeoutMs }: { timeoutMs: number }): Promise<CommandResult> {
    const encoded = Buffer.from(script, 'utf8').toString('base64');
    return this.shell.run(`printf '%s' '${encoded}' | base64 -d > /tmp/toa-lab-step.sh && sh /tmp/toa-lab-step.sh`, { timeoutMs });
  }
}
