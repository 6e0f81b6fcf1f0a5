import { open, type FileHandle } from 'node:fs/promises';

/**
 * Follows a growing file (QEMU's serial console log) and lets callers wait
 * for a line. The whole log stays on disk as the run's evidence; this only
 * reads what was appended since the last look.
 */
export class ConsoleLog {
  private text = '';
  private offset = 0;
  private handle: FileHandle | null = null;

  constructor(readonly path: string) {}

  /** Everything read so far. */
  get contents(): string {
    return this.text;
  }

  async refresh(): Promise<string> {
    this.handle ??= await open(this.path, 'r').catch(() => null);
    if (!this.handle) return this.text;
    const buffer = Buffer.alloc(64 * 1024);
    for (;;) {
      const { bytesRead } = await this.handle.read(buffer, 0, buffer.length, this.offset);
      if (bytesRead === 0) break;
      this.offset += bytesRead;
      this.text += buffer.subarray(0, bytesRead).toString('utf8');
    }
    return this.text;
  }

  /**
   * Resolves with the first match of `pattern` in the log; rejects when
   * `deadlineMs` passes or `stillAlive()` turns false (QEMU exited).
   */
  async waitFor(
    pattern: RegExp,
    options: { timeoutMs: number; stillAlive?: () => boolean; pollMs?: number },
  ): Promise<RegExpMatchArray> {
    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
      const match = (await this.refresh()).match(pattern);
      if (match) return match;
      if (options.stillAlive && !options.stillAlive()) {
        throw new ConsoleWaitError('the VM exited', pattern, this.tail());
      }
      if (Date.now() >= deadline) {
        throw new ConsoleWaitError(`nothing matched within ${options.timeoutMs} ms`, pattern, this.tail());
      }
      await new Promise((r) => setTimeout(r, options.pollMs ?? 100));
    }
  }

  tail(lines = 25): string {
    return this.text.split('\n').slice(-lines).join('\n');
  }

  async close(): Promise<void> {
    await this.handle?.close();
    this.handle = null;
  }
}

export class ConsoleWaitError extends Error {
  constructor(
    reason: string,
    readonly pattern: RegExp,
    readonly consoleTail: string,
  ) {
    super(`waiting for ${pattern} on the serial console: ${reason}; last console lines:\n${consoleTail}`);
    this.name = 'ConsoleWaitError';
  }
}
