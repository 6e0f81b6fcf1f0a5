import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureStandardVagrantBox } from '../../harness/images/cloud/build-vagrant-box.ts';
import { qemuProcessesUnder } from '../helpers/qemu-processes.ts';
import { removeRunFolders, runToaLab, type ToaLabRun } from '../helpers/toa-lab-run.ts';

/**
 * A disk whose cloud-init takes no seed — a standard Vagrant box's own box.img — named
 * in toa-lab.config.json with the login it does have (its vagrant user, Vagrant's
 * insecure key as Debian's vagrant package ships it) and booted by the QEMU provider,
 * not by Vagrant: the harness gets in as that user through sudo, points apt at the run's
 * proxy itself (no seed did), and runs the row. Without the login the same disk ends its
 * cell a minute after sshd answers (the second describe; moved here from the test command,
 * whose budget a cold box build strained: the refusal itself is also unit-tested against a
 * real ssh2 server, test/unit/remote/ssh-login-refusal.test.ts). The run
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

describe('the same disk with no login configured', () => {
  afterAll(() => removeRunFolders());

  it("a disk that ignores the cloud-init seed and no login configured: sshd's refusal, and what to add, a minute after sshd answers", async () => {
    // A standard Vagrant box's own disk: its cloud-init reads no datasource but None, so the
    // seed's user never exists; only its vagrant user with Vagrant's key gets in.
    const box = await ensureStandardVagrantBox((line) => console.log(line));
    const dir = mkdtempSync(join(tmpdir(), 'toa-lab-box-disk-'));
    execFileSync('tar', ['-xf', box.box, '-C', dir, 'box.img']);
    const run = runToaLab(['--image-file', join(dir, 'box.img'), '--scenario', 'guide-procedure'], { timeoutMs: 900_000 });
    expect(run.code, run.stderr).toBe(1);
    const error = run.outcome('box', 'guide-procedure')?.error ?? '';
    console.log(error);
    expect(error).toMatch(/^the image did not start: sshd on 127\.0\.0\.1:\d+ refused toalab\w+'s key for \d+ s/);
    expect(error).toContain("the image did not take the run's cloud-init NoCloud seed");
    expect(error).toMatch(/\{ "images": \{ "ROW": \[\{ "kind": "local-image", "path": "[^"]+box\.img", "login": \{ "user": "vagrant", "privateKeyFile": /);
    // Bounded by the refusal's grace after sshd answered, not by the 600 s first-boot timeout.
    const answered = Number(/ssh: 127\.0\.0\.1:\d+ answers \([^)]*\) after ([\d.]+) s/.exec(run.stdout)?.[1]);
    const refusedFor = Number(/refused toalab\w+'s key for (\d+) s/.exec(error)?.[1]);
    expect(answered).toBeGreaterThan(0);
    expect(refusedFor).toBeGreaterThanOrEqual(60);
    expect(refusedFor).toBeLessThan(120);
    expect(qemuProcessesUnder(`/tmp/toa-lab/s-${run.pid}-`)).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  }, 900_000); // a cold cache builds the box first
});
