import { utils } from 'ssh2';
import { describe, expect, it } from 'vitest';
import { encodeEd25519KeyPair, generateSshKeyPair, sshFingerprint } from '../../../harness/remote/ssh-key-pair.ts';
import { HostKeyPin } from '../../../harness/remote/host-key-pin.ts';

describe('the run\'s ephemeral SSH key pair', () => {
  it('is a private key ssh2 (under node-ssh) can read, matching the public line', () => {
    const pair = generateSshKeyPair('toa-lab test');
    const parsed = utils.parseKey(pair.privatePem);
    if (parsed instanceof Error) throw parsed;
    const key = Array.isArray(parsed) ? parsed[0]! : parsed;
    expect(key.type).toBe('ssh-ed25519');
    expect(key.comment).toBe('toa-lab test');
    expect(`ssh-ed25519 ${key.getPublicSSH().toString('base64')} toa-lab test`).toBe(pair.publicLine);
    // The private key signs what the public key verifies.
    const data = Buffer.from('toa-lab');
    const signature = key.sign(data);
    expect(signature instanceof Error).toBe(false);
    expect(key.verify(data, signature as Buffer)).toBe(true);
  });

  it('is fresh per run', () => {
    expect(generateSshKeyPair().publicLine).not.toBe(generateSshKeyPair().publicLine);
  });

  it('encodes deterministically: OpenSSH armour, 8-byte padded private section, SHA256 fingerprint', () => {
    const pub = Buffer.alloc(32, 1);
    const seed = Buffer.alloc(32, 2);
    const pair = encodeEd25519KeyPair(pub, seed, 'c', 1);
    expect(pair.privatePem).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+\n-----END OPENSSH PRIVATE KEY-----\n$/);
    expect(pair.privatePem.split('\n').every((line) => line.length <= 70)).toBe(true);
    const body = Buffer.from(pair.privatePem.split('\n').slice(1, -2).join(''), 'base64');
    expect(body.subarray(0, 15).toString('latin1')).toBe('openssh-key-v1\0');
    const blob = Buffer.from(pair.publicLine.split(' ')[1]!, 'base64');
    expect(pair.fingerprint).toBe(sshFingerprint(blob));
    expect(pair.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(() => encodeEd25519KeyPair(Buffer.alloc(31), seed, 'c')).toThrow(/32 bytes/);
  });
});

describe('HostKeyPin (trust on first use)', () => {
  const key = (byte: number) => Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), Buffer.alloc(32, byte)]);

  it('records the first key and accepts only that one afterwards (e.g. after a reboot)', () => {
    const pin = new HostKeyPin('[127.0.0.1]:2222');
    expect(pin.fingerprint).toBeNull();
    expect(pin.verify(key(1))).toBe(true);
    expect(pin.fingerprint).toBe(sshFingerprint(key(1)));
    expect(pin.verify(key(1))).toBe(true);
    expect(pin.verify(key(2))).toBe(false);
    expect(pin.lastMismatch).toContain('but SHA256:');
  });
});
