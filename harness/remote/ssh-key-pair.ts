import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The run's ephemeral SSH identity: an ed25519 key pair made with node:crypto
 * (no ssh-keygen needed on the host), written in OpenSSH's own formats because
 * that is the only form in which ssh2 (under node-ssh) reads ed25519 keys.
 * The private key never leaves the run's session folder; the guest gets the
 * public line through QEMU fw_cfg.
 */
export interface SshKeyPair {
  /** `ssh-ed25519 AAAA... comment`, as authorized_keys wants it. */
  publicLine: string;
  /** `-----BEGIN OPENSSH PRIVATE KEY-----` ... (unencrypted). */
  privatePem: string;
  /** `SHA256:...`, as ssh-keygen -lf prints it. */
  fingerprint: string;
}

const KEY_TYPE = 'ssh-ed25519';

export function generateSshKeyPair(comment = 'toa-lab run key'): SshKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return encodeEd25519KeyPair(rawPublic(publicKey), rawSeed(privateKey), comment);
}

/** Writes `id_ed25519` (0600) and `id_ed25519.pub` into `dir`; returns their paths. */
export async function writeSshKeyPair(dir: string, pair: SshKeyPair): Promise<{ privateKey: string; publicKey: string }> {
  const privateKey = join(dir, 'id_ed25519');
  const publicKey = `${privateKey}.pub`;
  await writeFile(privateKey, pair.privatePem, { mode: 0o600 });
  await writeFile(publicKey, `${pair.publicLine}\n`);
  return { privateKey, publicKey };
}

/** Pure encoding of a raw ed25519 key pair (32-byte public key, 32-byte seed) into OpenSSH's formats. */
export function encodeEd25519KeyPair(publicKey: Buffer, seed: Buffer, comment: string, checkInt = 0x746f616c): SshKeyPair {
  if (publicKey.length !== 32 || seed.length !== 32) throw new Error('ed25519 keys are 32 bytes');
  const publicBlob = Buffer.concat([sshString(KEY_TYPE), sshString(publicKey)]);

  // openssh-key-v1 (PROTOCOL.key): an unencrypted private section padded to the cipher block size (8).
  const check = uint32(checkInt);
  let privateSection = Buffer.concat([
    check,
    check,
    sshString(KEY_TYPE),
    sshString(publicKey),
    sshString(Buffer.concat([seed, publicKey])),
    sshString(comment),
  ]);
  const padding = Buffer.from(Array.from({ length: (8 - (privateSection.length % 8)) % 8 }, (_, i) => i + 1));
  privateSection = Buffer.concat([privateSection, padding]);
  const body = Buffer.concat([
    Buffer.from('openssh-key-v1\0', 'latin1'),
    sshString('none'), // cipher
    sshString('none'), // kdf
    sshString(''), // kdf options
    uint32(1), // one key
    sshString(publicBlob),
    sshString(privateSection),
  ]);
  const lines = body.toString('base64').match(/.{1,70}/g) ?? [];
  return {
    publicLine: `${KEY_TYPE} ${publicBlob.toString('base64')} ${comment}`,
    privatePem: `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join('\n')}\n-----END OPENSSH PRIVATE KEY-----\n`,
    fingerprint: sshFingerprint(publicBlob),
  };
}

/** `SHA256:<unpadded base64>` of a public key blob (the wire form, as servers send their host key). */
export function sshFingerprint(publicKeyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(publicKeyBlob).digest('base64').replace(/=+$/, '')}`;
}

function rawPublic(key: KeyObject): Buffer {
  return Buffer.from(key.export({ format: 'jwk' }).x ?? '', 'base64url');
}

function rawSeed(key: KeyObject): Buffer {
  return Buffer.from(key.export({ format: 'jwk' }).d ?? '', 'base64url');
}

function sshString(value: string | Buffer): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  return Buffer.concat([uint32(bytes.length), bytes]);
}

function uint32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value >>> 0);
  return buffer;
}
