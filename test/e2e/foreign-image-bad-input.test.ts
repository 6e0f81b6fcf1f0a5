import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ensureCloudImage } from '../../harness/images/cloud/build-cloud-image.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { qemuProcessesUnder } from '../helpers/qemu-processes.ts';
import { removeRunFolders, runToaLab } from '../helpers/toa-lab-run.ts';

/**
 * Disks that cannot be used, each ending its own cell with its reason. A disk that never boots — a valid qcow2 with nothing on it, as a truncated or
 * wrongly converted vendor image would be — next to an image that works: the bad
 * one's cell ends within seconds with the firmware's own words (not at the boot
 * timeout), the other image goes on and passes, nothing is left running.
 */
describe('disk images the lab cannot use', () => {
  afterAll(() => removeRunFolders());

  it("ends its own cell with the firmware's words, quickly; the other image goes on", () => {
    const dir = mkdtempSync(join(tmpdir(), 'toa-lab-blank-'));
    const blank = join(dir, 'blank.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', blank, '256M']);
    const run = runToaLab(['--image', 'microvm-bookworm', '--image-file', blank, '--scenario', 'fullnat-toa-v4', '--parallel', '1'], { timeoutMs: 900_000 });
    expect(run.code, run.stderr).toBe(1);
    const failed = run.outcome('blank', 'fullnat-toa-v4');
    expect(failed?.error).toMatch(/the image did not start: .*the firmware found nothing to boot: "(No bootable device|Boot failed)/);
    expect(run.outcome('microvm-bookworm', 'fullnat-toa-v4')?.checks.every((c) => c.passed)).toBe(true);
    expect(qemuProcessesUnder(`/tmp/toa-lab/s-${run.pid}-`)).toEqual([]);
  });

  it('ends a guest that does not let the harness in within --boot-timeout, with its console', async () => {
    // A real cloud disk whose first boot (cloud-init included) takes longer than 40 s under TCG.
    const image = await ensureCloudImage('debian-12-genericcloud');
    const started = Date.now();
    const run = runToaLab(['--image-file', image.disk, '--scenario', 'fullnat-toa-v4', '--boot-timeout', '40'], { timeoutMs: 600_000 });
    expect(run.code, run.stderr).toBe(1);
    const cell = basename(image.disk).replace(/\.qcow2$/, '');
    expect(run.outcome(cell, 'fullnat-toa-v4')?.error).toMatch(/the image did not start: .*within 40 s[\s\S]*last console lines/);
    expect(Date.now() - started).toBeLessThan(300_000);
    expect(qemuProcessesUnder(`/tmp/toa-lab/s-${run.pid}-`)).toEqual([]);
  });
});
