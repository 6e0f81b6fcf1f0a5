import { appendFile } from 'node:fs/promises';
import type { CommandResult } from '../exec/command-result.ts';

/**
 * Every command run in a guest, one JSON line each, in the run's folder: the
 * raw record behind a step's summary, kept even when the step passed.
 */
export class CommandLog {
  constructor(readonly path: string) {}

  async append(result: CommandResult, transport: string): Promise<void> {
    await appendFile(this.path, `${JSON.stringify({ at: new Date().toISOString(), transport, ...result })}\n`);
  }
}
