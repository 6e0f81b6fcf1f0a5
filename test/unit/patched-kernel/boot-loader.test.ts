import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { editBootLoader } from '../../../harness/patched-kernel/boot-loader.ts';
import { defaultGrub2Entry } from '../../../harness/patched-kernel/grub2.ts';
import { HostMachine } from '../../../harness/patched-kernel/tree-access.ts';

const fixture = (name: string): string => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');

describe('the boot loader step finds GRUB legacy or GRUB 2 under a root', () => {
  const dir = mkdtempSync(join(tmpdir(), 'toa-lab-pk-bootloader-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const machine = new HostMachine();

  it('GRUB 2 (Debian layout): grub.cfg edited in place, idempotently', async () => {
    mkdirSync(join(dir, 'debian', 'boot', 'grub'), { recursive: true });
    writeFileSync(join(dir, 'debian', 'boot', 'grub', 'grub.cfg'), fixture('debian12-grub.cfg'));
    const first = await editBootLoader(machine, join(dir, 'debian'), { release: '6.1.192-toa', addArgs: ['nohz=off'] });
    expect(first).toMatchObject({ loader: 'grub2', path: '/boot/grub/grub.cfg' });
    const cfg = readFileSync(join(dir, 'debian', 'boot', 'grub', 'grub.cfg'), 'utf8');
    expect(defaultGrub2Entry(cfg).kernel).toBe('/boot/vmlinuz-6.1.192-toa');
    expect((await editBootLoader(machine, join(dir, 'debian'), { release: '6.1.192-toa', addArgs: ['nohz=off'] })).edit.changed).toBe(false);
  });

  it('no boot loader configuration: a clear error', async () => {
    mkdirSync(join(dir, 'empty'));
    await expect(editBootLoader(machine, join(dir, 'empty'), { release: 'x', addArgs: [] })).rejects.toThrow(/no boot loader configuration under .*empty/);
  });
});
