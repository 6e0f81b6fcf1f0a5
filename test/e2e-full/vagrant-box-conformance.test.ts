import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHostCommand } from '../../harness/exec/run-host-command.ts';
import { ensureStandardVagrantBox } from '../../harness/images/cloud/build-vagrant-box.ts';
import { repoRoot } from '../../harness/repo-root.ts';
import { SCENARIOS } from '../../scenarios/index.ts';
import { removeRunFolders, runToaLab, type ToaLabRun } from '../helpers/toa-lab-run.ts';

/**
 * A Vagrant box as boxes are published — a libvirt .box with its own boot loader,
 * a `vagrant` user holding Vagrant's insecure key, passwordless sudo, no toa-lab
 * parts — handed over as one file and run through the Vagrant provider: `vagrant
 * up` boots it, the harness logs in as vagrant with the key Vagrant itself uses,
 * works through sudo, finds the OS, runs its guide row, reboots, every data-path scenario.
 */
describe('a standard Vagrant box through the Vagrant provider (--image-file x.box --provider vagrant)', () => {
  let run: ToaLabRun;
  let cell: string;

  beforeAll(async () => {
    const install = await runHostCommand(join(repoRoot(), 'scripts', 'install-vagrant.sh'), [], { timeoutMs: 600_000, check: false });
    expect(install.exitCode, install.stderr).toBe(0);
    const box = await ensureStandardVagrantBox((line) => console.log(line));
    cell = box.box.split('/').pop()!.replace(/\.box$/, '');
    run = runToaLab(['--image-file', box.box, '--provider', 'vagrant'], { timeoutMs: 3_000_000 });
    console.log(run.stdout.split('\n').filter((l) => l.startsWith('#')).join('\n'));
  }, 3_300_000);

  afterAll(() => removeRunFolders());

  it('boots it with vagrant up and logs in as its vagrant user through sudo', () => {
    expect(run.stdout).toMatch(/harness ssh login works as vagrant/);
    expect(run.outcome(cell, 'guide-procedure')?.steps?.find((s) => s.kind === 'detect-os')?.summary).toMatch(/the guide's row debian-12/);
  });

  it("passes the guide's row, the reboot and every data-path scenario", () => {
    for (const id of ['guide-procedure', 'reboot-persistence', ...SCENARIOS.map((s) => s.id)]) {
      const outcome = run.outcome(cell, id);
      expect(outcome?.error, id).toBeUndefined();
      expect(outcome?.checks.filter((c) => !c.passed && !c.informational) ?? [], id).toEqual([]);
    }
    expect(run.code).toBe(0);
  });
});
