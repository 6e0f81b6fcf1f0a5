import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureStandardVagrantBox } from '../../harness/images/cloud/build-vagrant-box.ts';
import { removeRunFolders, runToaLab, type ToaLabRun } from '../helpers/toa-lab-run.ts';

/**
 * A disk whose cloud-init takes no seed — a standard Vagrant box's own box.img — named
 * in toa-lab.config.json with the login it does have (its vagrant user, Vagrant's
 * insecure key as Debian's vagrant package ships it) and booted by the QEMU provider,
 * not by Vagrant: the harness gets in as that user through sudo, points apt at the run's
 * proxy itself (no seed did), and runs the row. Without the login the same disk ends its
 * cell a minute after sshd answers (test/e2e/foreign-image-bad-input.test.ts). The run
 * also names another row with --profile, which the procedure then follows.
 */
describe("a config row with the disk's own login (a Vagrant box's disk, no seed taken)", () => {
  let run: ToaLabRun;

  beforeAll(async () => {
    const box = await ensureStandardVagrantBox((line) => console.log(line));
    const dir = mkdtempSync(join(tmpdir(), 'toa-lab-login-row-'));
    execFileSync('tar', ['-xf', box.box, '-C', dir, 'box.img']);
    const config = join(dir, 'toa-lab.config.json');
    writeFileSync(
      config,
      JSON.stringify({ images: { 'debian-12': [{ kind: 'local-image', path: join(dir, 'box.img'), login: { user: 'vagrant', privateKeyFile: box.insecurePrivateKey } }] } }),
    );
    // --profile: follow the Debian 10 row (the same tools, its own name) instead of the detected Debian 12.
    run = runToaLab(['--config', config, '--image', 'debian-12', '--profile', 'debian-10', '--scenario', 'guide-procedure,reboot-persistence,fullnat-toa-v4,fullnat-no-toa'], {
      timeoutMs: 3_000_000,
    });
    console.log(run.stdout.split('\n').filter((l) => l.startsWith('#')).join('\n'));
  }, 3_300_000);

  afterAll(() => removeRunFolders());

  it('logs in as the configured user, through sudo, with no seed', () => {
    expect(run.stdout).toMatch(/debian-12: ssh on 127\.0\.0\.1:\d+ as vagrant/);
    expect(run.stdout).not.toMatch(/cloud-init seed/);
  });

  it('follows the row --profile names, saying what the guest itself is', () => {
    const detected = run.outcome('debian-12', 'guide-procedure')?.steps?.find((s) => s.kind === 'detect-os');
    expect(detected?.summary).toMatch(/Debian GNU\/Linux 12.*\(--profile debian-10\): the guide's row debian-10/);
  });

  it("installs the toolchain through the run's proxy and passes the row, the reboot and the data path", () => {
    const steps = run.outcome('debian-12', 'guide-procedure')?.steps ?? [];
    expect(steps.find((s) => s.kind === 'toolchain')?.status).toBe('passed');
    for (const id of ['guide-procedure', 'reboot-persistence', 'fullnat-toa-v4', 'fullnat-no-toa']) {
      const outcome = run.outcome('debian-12', id);
      expect(outcome?.error, id).toBeUndefined();
      expect(outcome?.checks.filter((c) => !c.passed && !c.informational) ?? [], id).toEqual([]);
    }
    expect(run.code).toBe(0);
  });
});
