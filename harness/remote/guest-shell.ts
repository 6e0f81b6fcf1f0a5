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

/**
 * Writes one file in any guest through its shell (base64 on the command line: the serial
 * agent has no file transfer), parents and mode set in the same command.
 */
export function writeGuestFile(guest: GuestShell, path: string, content: string | Uint8Array, mode = 0o644): Promise<CommandResult> {
  const encoded = Buffer.from(content).toString('base64');
  const dir = path.slice(0, path.lastIndexOf('/')) || '/';
  return guest.check(
    `mkdir -p ${shellQuote(dir)} && echo ${encoded} | base64 -d > ${shellQuote(path)} && chmod ${mode.toString(8)} ${shellQuote(path)}`,
  );
}
