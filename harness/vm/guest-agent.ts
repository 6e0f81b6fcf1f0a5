import { connect, type Socket } from 'node:net';
import type { CommandResult } from '../exec/command-result.ts';
import { CommandFailedError, succeeded } from '../exec/command-result.ts';
import type { GuestShell } from '../remote/guest-shell.ts';

/**
 * The harness side of images/microvm/agent: runs shell commands in the guest
 * over its second serial port and returns execa-shaped results. Commands run
 * one at a time, in the order they were asked for.
 */
export class GuestAgent implements GuestShell {
  private buffer = '';
  private nextId = 1;
  private queue: Promise<unknown> = Promise.resolve();
  private pending: PendingReply | null = null;
  private closedError: Error | null = null;
  private pingAnswered = false;
  private onPingAnswered: (() => void) | null = null;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    const onGone = (error?: Error): void => {
      this.closedError = new Error(`guest agent connection closed${error ? `: ${error.message}` : ''}`);
      this.pending?.reject(this.closedError);
      this.pending = null;
    };
    socket.on('error', onGone);
    socket.on('close', () => onGone());
  }

  /**
   * Connects to QEMU's listening socket, retrying while QEMU creates it, then syncs with
   * the agent. `stillAlive` false (QEMU exited) ends the wait at once.
   */
  static async connect(path: string, timeoutMs = 10_000, stillAlive: () => boolean = () => true): Promise<GuestAgent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!stillAlive()) throw new Error(`cannot reach the guest agent at ${path}: QEMU exited`);
      try {
        const socket = await new Promise<Socket>((resolve, reject) => {
          const s = connect(path, () => resolve(s));
          s.once('error', reject);
        });
        const agent = new GuestAgent(socket);
        await agent.sync(Math.max(1_000, deadline - Date.now()));
        return agent;
      } catch (error) {
        if (Date.now() >= deadline) throw new Error(`cannot reach the guest agent at ${path}: ${String(error)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /**
   * Pings the agent until one ping is answered. A serial line can lose bytes
   * around the moment the guest opens it; a lost ping costs a retry, whereas
   * a lost first command would hang its caller.
   */
  private async sync(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const ping = `0 5 ${Buffer.from('true').toString('base64')}\n`;
    while (!this.pingAnswered) {
      if (this.closedError) throw this.closedError;
      if (Date.now() >= deadline) throw new Error(`the guest agent did not answer a ping within ${timeoutMs} ms`);
      this.socket.write(ping);
      // Resent every 500 ms, but answered as soon as the agent replies (a restored guest
      // answers within milliseconds; a fixed wait would cost most of a restore).
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, 500);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.onPingAnswered = done;
      });
      this.onPingAnswered = null;
    }
  }

  /** Runs `command` with /bin/sh in the guest. Never throws for a non-zero exit; see `check`. */
  run(command: string, options: { timeoutMs?: number } = {}): Promise<CommandResult> {
    const result = this.queue.then(() => this.send(command, options.timeoutMs ?? 60_000));
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Like run, but throws CommandFailedError unless the command exits 0. */
  async check(command: string, options: { timeoutMs?: number } = {}): Promise<CommandResult> {
    const result = await this.run(command, options);
    if (!succeeded(result)) throw new CommandFailedError(result);
    return result;
  }

  close(): void {
    this.socket.destroy();
  }

  private send(command: string, timeoutMs: number): Promise<CommandResult> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = this.nextId++;
    const started = Date.now();
    const guestLimit = Math.max(1, Math.ceil(timeoutMs / 1000));
    return new Promise<CommandResult>((resolve, reject) => {
      // The guest kills the command at its own limit; this timer only catches a dead agent.
      const timer = setTimeout(() => {
        this.pending = null;
        reject(new Error(`guest agent did not answer within ${timeoutMs + 15_000} ms (command: ${command})`));
      }, timeoutMs + 15_000);
      this.pending = {
        id,
        out: [],
        err: [],
        section: null,
        resolve: (exitCode) => {
          clearTimeout(timer);
          const { out, err } = this.pending ?? { out: [], err: [] };
          this.pending = null;
          // The guest's `timeout -s KILL` makes a killed command exit 137.
          const timedOut = exitCode === 137 && Date.now() - started >= guestLimit * 1000 - 50;
          resolve({
            command,
            exitCode,
            signal: null,
            stdout: decode(out),
            stderr: decode(err),
            timedOut,
            durationMs: Date.now() - started,
          });
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.socket.write(`${id} ${guestLimit} ${Buffer.from(command).toString('base64')}\n`);
    });
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let newline: number;
    while ((newline = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, newline).replace(/\r$/, '');
      this.buffer = this.buffer.slice(newline + 1);
      this.onLine(line);
    }
  }

  private onLine(line: string): void {
    if (line === '@@END 0 0') {
      this.pingAnswered = true;
      this.onPingAnswered?.();
    }
    const pending = this.pending;
    if (!pending) return;
    const marker = /^@@(OUT|ERR|END) (\d+)(?: (\d+))?$/.exec(line);
    if (marker && Number(marker[2]) === pending.id) {
      if (marker[1] === 'OUT') pending.section = pending.out;
      else if (marker[1] === 'ERR') pending.section = pending.err;
      else pending.resolve(Number(marker[3]));
      return;
    }
    pending.section?.push(line);
  }
}

interface PendingReply {
  id: number;
  out: string[];
  err: string[];
  section: string[] | null;
  resolve: (exitCode: number) => void;
  reject: (error: Error) => void;
}

function decode(lines: string[]): string {
  return Buffer.from(lines.join(''), 'base64').toString('utf8');
}
