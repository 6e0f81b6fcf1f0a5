import { NodeSSH } from 'node-ssh';
import type { ClientChannel } from 'ssh2';
import { CommandFailedError, succeeded, type CommandResult } from '../exec/command-result.ts';
import type { CommandLog } from './command-log.ts';
import { shellQuote, writeGuestFile, type GuestShell } from './guest-shell.ts';
import type { HostKeyPin } from './host-key-pin.ts';
import { backoffMs, sleep, SshNotReadyError, waitForSshBanner } from './ssh-readiness.ts';

/**
 * GuestShell over SSH (node-ssh), for full-OS guests. Logs in with the run's
 * ephemeral key (or the user's own), pins the host key at first contact, gives
 * every command a timeout, and writes every result to the run's command log.
 * Every command runs as root: directly when the login is root (the lab's own
 * images), through `sudo -n` otherwise — the Huawei guide's prerequisite
 * ("users other than root must have sudo permissions"), and the only way into a
 * cloud image, whose seed creates an ordinary user with passwordless sudo.
 */
export interface SshTarget {
  host: string;
  port: number;
  username: string;
  privateKey: string;
  hostKeys: HostKeyPin;
  log: CommandLog;
  /** How commands become root: `root` (the login is root) or `sudo` (default: root when username is root). */
  privilege?: 'root' | 'sudo';
}

export interface SshConnectOptions {
  /** The whole wait: banner, then a working login. */
  timeoutMs: number;
  givenUp?: () => string | null;
  onProgress?: (line: string) => void;
  /**
   * Stop waiting once sshd has refused the key for this long without a break, and
   * say why in `advice`. Without it a refused key is retried to the deadline. A
   * cloud-init seed's user exists before sshd starts (cloud-init's network stage is
   * ordered before ssh.service), so a refusal that lasts means the image never took
   * the seed: waiting the whole first-boot timeout would only delay saying so.
   */
  loginRefusal?: { graceMs: number; advice: string };
}

/** sshd answered and refused the key (ssh2 tags authentication failures with this level). */
function isAuthenticationRefusal(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { level?: unknown }).level === 'client-authentication';
}

/** sshd kept refusing the login's key: the guest is up, but not for this user and key. */
export class SshLoginRefusedError extends Error {
  override readonly name = 'SshLoginRefusedError';
  constructor(
    message: string,
    readonly attempts: number,
  ) {
    super(message);
  }
}

const DEFAULT_COMMAND_TIMEOUT_MS = 120_000;

export class SshGuestShell implements GuestShell {
  private constructor(
    private readonly ssh: NodeSSH,
    readonly target: SshTarget,
    /** Banner to working login, for the boot report. */
    readonly connectMs: number,
  ) {}

  /** Waits (bounded) until sshd answers and a login works, then returns the shell. */
  static async connect(target: SshTarget, options: SshConnectOptions): Promise<SshGuestShell> {
    const started = Date.now();
    const deadline = started + options.timeoutMs;
    const where = `${target.host}:${target.port}`;
    const { banner } = await waitForSshBanner({ ...target, timeoutMs: options.timeoutMs, ...(options.givenUp && { givenUp: options.givenUp }) });
    options.onProgress?.(`ssh: ${where} answers (${banner}) after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    let lastError = '';
    let refusedSince: number | undefined;
    // sshd may answer while systemd is still settling (LAB-NOTES: up to ~10 s): retry the login.
    for (let attempt = 1; ; attempt++) {
      const gaveUp = options.givenUp?.();
      if (gaveUp) throw new SshNotReadyError(`no SSH login on ${where}: ${gaveUp}`, attempt - 1);
      const ssh = new NodeSSH();
      try {
        await ssh.connect({
          host: target.host,
          port: target.port,
          username: target.username,
          privateKey: target.privateKey,
          hostVerifier: target.hostKeys.verify,
          readyTimeout: Math.max(5_000, Math.min(30_000, deadline - Date.now())),
          keepaliveInterval: 5_000,
          keepaliveCountMax: 6,
        });
        // ssh2 emits 'error' on the client when the guest goes away (reboot, QEMU stopped); without
        // a listener that would crash the harness. The next command reports it as its result.
        ssh.connection?.on('error', () => {});
        return new SshGuestShell(ssh, target, Date.now() - started);
      } catch (error) {
        ssh.dispose();
        if (target.hostKeys.lastMismatch) throw new Error(`refusing ${where}: ${target.hostKeys.lastMismatch}`);
        lastError = error instanceof Error ? error.message : String(error);
        refusedSince = isAuthenticationRefusal(error) ? (refusedSince ?? Date.now()) : undefined;
        const refusal = options.loginRefusal;
        if (refusal && refusedSince !== undefined && Date.now() - refusedSince >= refusal.graceMs) {
          throw new SshLoginRefusedError(
            `sshd on ${where} refused ${target.username}'s key for ${Math.round((Date.now() - refusedSince) / 1000)} s (${attempt} attempts; last: ${lastError}): ${refusal.advice}`,
            attempt,
          );
        }
      }
      if (Date.now() >= deadline) {
        throw new SshNotReadyError(
          `sshd on ${where} answered but no login worked within ${options.timeoutMs / 1000} s (${attempt} attempts; last: ${lastError})`,
          attempt,
        );
      }
      await sleep(Math.min(backoffMs(attempt), Math.max(0, deadline - Date.now())));
    }
  }

  get isConnected(): boolean {
    return this.ssh.isConnected();
  }

  async run(command: string, options: { timeoutMs?: number } = {}): Promise<CommandResult> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    const started = Date.now();
    let channel: ClientChannel | undefined;
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const stdout: string[] = [];
    const stderr: string[] = [];
    // On timeout: ask sshd to kill the command, drop the channel, and stop waiting whatever it does.
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        channel?.signal('KILL');
        channel?.close();
        reject(new Error(`no exit status within ${timeoutMs} ms`));
      }, timeoutMs);
    });
    let result: CommandResult;
    try {
      // sshd runs commands through root's login shell; the interface promises /bin/sh.
      const response = await Promise.race([
        this.ssh.execCommand(this.asRoot(command), {
          noTrim: true,
          onChannel: (c) => (channel = c),
          onStdout: (chunk) => stdout.push(chunk.toString()),
          onStderr: (chunk) => stderr.push(chunk.toString()),
        }),
        deadline,
      ]);
      result = {
        command,
        exitCode: timedOut ? null : response.code,
        signal: response.signal,
        stdout: response.stdout,
        stderr: response.stderr,
        timedOut,
        durationMs: Date.now() - started,
      };
    } catch (error) {
      // Timed out, or the connection went away (e.g. the guest rebooted under us): a result, not a throw.
      result = {
        command,
        exitCode: null,
        signal: null,
        stdout: stdout.join(''),
        stderr: `${stderr.join('')}${timedOut ? '' : `ssh: ${error instanceof Error ? error.message : String(error)}`}`,
        timedOut,
        durationMs: Date.now() - started,
      };
    } finally {
      clearTimeout(timer);
    }
    await this.target.log.append(result, `ssh ${this.target.host}:${this.target.port}`);
    return result;
  }

  async check(command: string, options: { timeoutMs?: number } = {}): Promise<CommandResult> {
    const result = await this.run(command, options);
    if (!succeeded(result)) throw new CommandFailedError(result);
    return result;
  }

  /** True when commands go through `sudo -n` (the login is not root). */
  get usesSudo(): boolean {
    return (this.target.privilege ?? (this.target.username === 'root' ? 'root' : 'sudo')) === 'sudo';
  }

  /** The command line sshd runs: /bin/sh as the interface promises, as root either way. */
  private asRoot(command: string): string {
    const sh = `/bin/sh -c ${shellQuote(command)}`;
    return this.usesSudo ? `sudo -n ${sh}` : sh;
  }

  /**
   * Copies a host folder to `remoteDir` (created) over SFTP; returns the command-log-shaped record.
   * SFTP writes as the login user: through sudo, the files land in a folder that user owns
   * first and are then moved into place by root.
   */
  async putDirectory(localDir: string, remoteDir: string, filter: (path: string) => boolean = () => true): Promise<CommandResult> {
    const started = Date.now();
    const failures: string[] = [];
    let copied = 0;
    const staging = this.usesSudo ? `/tmp/toa-lab-upload-${Date.now()}-${Math.random().toString(36).slice(2, 8)}` : remoteDir;
    await this.check(this.usesSudo ? `install -d -m 0700 -o ${shellQuote(this.target.username)} ${staging}` : `mkdir -p ${shellQuote(remoteDir)}`);
    const ok = await this.ssh.putDirectory(localDir, staging, {
      recursive: true,
      concurrency: 4,
      validate: filter,
      tick: (local, _remote, error) => (error ? failures.push(`${local}: ${error.message}`) : copied++),
    });
    if (this.usesSudo) {
      const moved = await this.run(
        `mkdir -p ${shellQuote(remoteDir)} && cp -R ${staging}/. ${shellQuote(remoteDir)}/ && chown -R 0:0 ${shellQuote(remoteDir)}; rc=$?; rm -rf ${staging}; exit $rc`,
      );
      if (!succeeded(moved)) failures.push(`moving the upload into ${remoteDir} as root: ${moved.stderr.trim()}`);
    }
    const result: CommandResult = {
      command: `sftp put -r ${localDir} ${remoteDir}`,
      exitCode: ok && failures.length === 0 ? 0 : 1,
      signal: null,
      stdout: `${copied} file(s) copied\n`,
      stderr: failures.join('\n'),
      timedOut: false,
      durationMs: Date.now() - started,
    };
    await this.target.log.append(result, `sftp ${this.target.host}:${this.target.port}`);
    return result;
  }

  /** Writes one file in the guest (through the shell, so mode and parents are set in one command). */
  writeFile(path: string, content: string, mode = 0o644): Promise<CommandResult> {
    return writeGuestFile(this, path, content, mode);
  }

  close(): void {
    this.ssh.dispose();
  }
}
