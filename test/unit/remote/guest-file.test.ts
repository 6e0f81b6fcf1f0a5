import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readGuestFile, writeGuestFile } from '../../../harness/remote/guest-shell.ts';
import { LocalShell } from '../../helpers/local-shell.ts';

// The command lines a guest runs, run by this machine's sh, gzip and base64 (the micro-VM's are busybox's).
describe('a file read from a guest through its shell', () => {
  const dir = mkdtempSync(join(tmpdir(), 'guest-file-'));
  const log = Array.from({ length: 2000 }, (_, i) => `conn peer=198.51.100.${i % 250}:${10000 + i} path=/?conn=${i} status=200`).join('\n') + '\n';

  it('comes back byte for byte, compressed on the way when the guest has gzip', async () => {
    const path = join(dir, 'access.log');
    writeFileSync(path, log);
    expect(await readGuestFile(new LocalShell(), path)).toBe(log);
  });

  it('comes back as it is from a guest without gzip', async () => {
    const path = join(dir, 'plain.log');
    writeFileSync(path, 'one line\n');
    // A PATH with base64 and cat but no gzip.
    const bin = mkdtempSync(join(tmpdir(), 'no-gzip-'));
    const shell = new LocalShell({ PATH: bin });
    await new LocalShell().check(`ln -s "$(command -v cat)" ${bin}/cat && ln -s "$(command -v base64)" ${bin}/base64`);
    expect(await readGuestFile(shell, path)).toBe('one line\n');
  });

  it('a missing file reads as empty; a file written with writeGuestFile reads back', async () => {
    expect(await readGuestFile(new LocalShell(), join(dir, 'nothing-here.log'))).toBe('');
    const written = join(dir, 'sub', 'w.txt');
    await writeGuestFile(new LocalShell(), written, 'é\n', 0o600);
    expect(await readGuestFile(new LocalShell(), written)).toBe('é\n');
  });
});
