import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ensureCloudImage } from '../../harness/images/cloud/build-cloud-image.ts';
import { ensureFlawedCloudImages } from '../../harness/images/cloud/flawed-cloud-images.ts';
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

  it("images flawed as vendors' are: no sudo, a kernel its repositories serve no headers for, a seed it ignores; each cell ends with its own reason", async () => {
    const flawed = await ensureFlawedCloudImages((line) => console.log(line));
    const cell = (name: keyof typeof flawed.images) => basename(flawed.images[name].disk).replace(/\.qcow2$/, '');
    const run = runToaLab(
      [
        ...(['no-sudo', 'stale-kernel', 'no-seed'] as const).flatMap((name) => ['--image-file', flawed.images[name].disk]),
        '--scenario',
        'guide-procedure',
        '--parallel',
        '2',
      ],
      { timeoutMs: 1_500_000 },
    );
    console.log(run.stdout.split('\n').filter((l) => l.startsWith('#') || l.startsWith('not ok')).join('\n'));
    expect(run.code, run.stderr).toBe(1);

    // sudo is not there: the login works, root does not, in the shell's own words.
    const noSudo = run.outcome(cell('no-sudo'), 'guide-procedure');
    expect(noSudo?.error).toMatch(/^the image cannot be driven: toalab[0-9a-f]+ logs in but cannot become root with sudo -n .*sudo: (command )?not found/);

    // cloud-init's own errors are evidence, not the end; the missing headers are, with apt's words and the guide's advice.
    const stale = run.outcome(cell('stale-kernel'), 'guide-procedure');
    const steps = stale?.steps ?? [];
    const cloudInit = steps.find((s) => s.kind === 'provision' && s.name.includes('cloud-init'));
    expect(cloudInit?.status, cloudInit?.summary).toBe('passed');
    expect(cloudInit?.summary).toMatch(/^cloud-init finished with errors of its own \(status: error\): /);
    expect(cloudInit?.evidence ?? '').toMatch(/bootcmd|vendor-motd-refresh/);
    const toolchain = steps.find((s) => s.kind === 'toolchain' && s.status === 'failed');
    expect(toolchain?.summary).toBe(
      `no kernel-devel package for ${flawed.kernelRelease} (linux-headers-${flawed.kernelRelease} is not installed and apt cannot provide it): ` +
        'contact the image provider (the guide: the kernel development package must match the running kernel)',
    );
    expect(toolchain?.evidence).toMatch(/Unable to locate package linux-headers-|No packages found/);
    expect(steps.some((s) => s.kind === 'build')).toBe(false);

    // sshd answers and refuses everyone: a minute later, sshd's answer and what to add to the config.
    const noSeed = run.outcome(cell('no-seed'), 'guide-procedure');
    expect(noSeed?.error).toMatch(/^the image did not start: .*did not take the run's cloud-init NoCloud seed.*"login": \{ "user"/s);

    expect(qemuProcessesUnder(`/tmp/toa-lab/s-${run.pid}-`)).toEqual([]);
    // No overlay, seed or socket: the run's session folder is gone.
    expect(readdirSync('/tmp/toa-lab').filter((d) => d.startsWith(`s-${run.pid}-`))).toEqual([]);
  }, 1_800_000);
});
