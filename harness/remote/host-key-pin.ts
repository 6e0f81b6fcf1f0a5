import { appendFileSync } from 'node:fs';
import { sshFingerprint } from './ssh-key-pair.ts';

/**
 * Trust on first use, for one guest: the host key seen at the first contact
 * is recorded (and written to the run's known_hosts file as evidence); every
 * later connection, including after a reboot, must present the same key.
 * A different key means a different machine answered on the port.
 */
export class HostKeyPin {
  private pinned: { blob: Buffer; fingerprint: string } | null = null;
  private mismatch: string | null = null;

  /** `knownHostsFile` receives `[127.0.0.1]:PORT ssh-ed25519 AAAA...` at first contact. */
  constructor(
    private readonly hostLabel: string,
    private readonly knownHostsFile?: string,
  ) {}

  get fingerprint(): string | null {
    return this.pinned?.fingerprint ?? null;
  }

  /** The last rejected key, for the error message (ssh2 only says "host verification failed"). */
  get lastMismatch(): string | null {
    return this.mismatch;
  }

  /** ssh2's synchronous `hostVerifier`: gets the key blob as the server sent it. */
  readonly verify = (blob: Buffer): boolean => {
    const fingerprint = sshFingerprint(blob);
    if (!this.pinned) {
      this.pinned = { blob: Buffer.from(blob), fingerprint };
      if (this.knownHostsFile) appendFileSync(this.knownHostsFile, `${this.hostLabel} ${keyLine(blob)}\n`);
      return true;
    }
    if (this.pinned.blob.equals(blob)) return true;
    this.mismatch = `${this.hostLabel} presented ${fingerprint}, but ${this.pinned.fingerprint} was recorded at first contact`;
    return false;
  };
}

/** `ssh-ed25519 AAAA...` from a wire-format key blob (its first field is the key type). */
function keyLine(blob: Buffer): string {
  const typeLength = blob.readUInt32BE(0);
  return `${blob.subarray(4, 4 + typeLength).toString('latin1')} ${blob.toString('base64')}`;
}
