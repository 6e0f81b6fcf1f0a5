import type { CommandResult } from '../exec/command-result.ts';

/**
 * How the harness runs a command in a guest, whatever carries it: the
 * micro-VM's serial agent today, SSH for full-OS images. Steps and checks are
 * written against this, not against a transport.
 */
export interface GuestShell {
  /** Runs a /bin/sh command line; resolves with its result whatever the exit code. */
  run(command: string, options?: { timeoutMs?: number }): Promise<CommandResult>;
  /** Like run, but rejects with CommandFailedError unless it exits 0. */
  check(command: string, options?: { timeoutMs?: number }): Promise<CommandResult>;
}

/** Quotes one word for /bin/sh. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
