import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { writeCpioNewc } from '../../../harness/images/microvm/cpio-newc.ts';

describe('writeCpioNewc', () => {
  const archive = writeCpioNewc([
    { type: 'dir', path: 'bin' },
    { type: 'file', path: 'bin/hello', data: Buffer.from('#!/bin/sh\necho hi\n'), mode: 0o755 },
    { type: 'symlink', path: 'bin/sh', target: 'busybox' },
    { type: 'char-device', path: 'dev/console', major: 5, minor: 1 },
    { type: 'file', path: 'odd-sized', data: Buffer.from('12345') },
  ]);

  it('starts every header with the newc magic and is 4-byte aligned', () => {
    expect(archive.subarray(0, 6).toString('ascii')).toBe('070701');
    expect(archive.length % 4).toBe(0);
    expect(archive.includes(Buffer.from('TRAILER!!!\0'))).toBe(true);
  });

  it('is read back by GNU cpio with modes, links and device numbers intact', () => {
    const listing = execFileSync('cpio', ['-itv', '--quiet'], { input: archive }).toString();
    expect(listing).toMatch(/^drwxr-xr-x .* bin$/m);
    expect(listing).toMatch(/^-rwxr-xr-x .* 18 .* bin\/hello$/m);
    expect(listing).toMatch(/^lrwxrwxrwx .* bin\/sh -> busybox$/m);
    expect(listing).toMatch(/^crw------- .* 5,\s+1 .* dev\/console$/m);
    const content = execFileSync('cpio', ['-i', '--to-stdout', '--quiet', 'bin/hello'], { input: archive });
    expect(content.toString()).toBe('#!/bin/sh\necho hi\n');
  });
});
