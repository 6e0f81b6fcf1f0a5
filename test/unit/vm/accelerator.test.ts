import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chooseAccelerator } from '../../../harness/vm/accelerator.ts';

// The real probe (a KVM boot of the micro-VM) runs in test/e2e; here the decision logic around it.
describe('chooseAccelerator', () => {
  let device: string;
  beforeEach(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'toa-lab-accel-'));
    process.env.TOA_LAB_CACHE = dir;
    delete process.env.TOA_LAB_ACCEL;
    device = join(dir, 'kvm');
    await writeFile(device, '');
  });
  afterEach(() => {
    delete process.env.TOA_LAB_CACHE;
  });

  it('falls back to TCG when the boot probe fails, says why, and remembers it', async () => {
    let probes = 0;
    const failing = async () => {
      probes++;
      return { ok: false as const, why: 'no "guest ready" line within 10 s' };
    };
    const first = await chooseAccelerator(failing, device);
    expect(first.accelerator).toBe('tcg');
    expect(first.reason).toMatch(/KVM boot probe failed .*no "guest ready" line within 10 s.*falling back to TCG/);
    const second = await chooseAccelerator(failing, device);
    expect(second.accelerator).toBe('tcg');
    expect(second.reason).toMatch(/probed /);
    expect(probes).toBe(1);
  });

  it('uses KVM only when the probe proved it boots', async () => {
    expect((await chooseAccelerator(async () => ({ ok: true }), device)).accelerator).toBe('kvm');
  });

  it('does not probe without a usable /dev/kvm, and obeys TOA_LAB_ACCEL', async () => {
    const never = async (): Promise<{ ok: true }> => {
      throw new Error('must not probe');
    };
    expect(await chooseAccelerator(never, join(device, 'missing'))).toMatchObject({ accelerator: 'tcg' });
    process.env.TOA_LAB_ACCEL = 'tcg';
    expect(await chooseAccelerator(never, device)).toEqual({ accelerator: 'tcg', reason: 'forced by TOA_LAB_ACCEL' });
    delete process.env.TOA_LAB_ACCEL;
  });
});
