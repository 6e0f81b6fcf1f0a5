import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCloudImage } from '../../harness/images/cloud/build-cloud-image.ts';
import { SCENARIOS } from '../../scenarios/index.ts';
import { readdirSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { qemuProcessesUnder } from '../helpers/qemu-processes.ts';
import { removeRunFolders, runToaLab, type ToaLabRun } from '../helpers/toa-lab-run.ts';

/**
 * A vendor's image, as a vendor hands it over: one file. The disk is a
 * cloud-format Debian 12 built here the way distributions publish theirs
 * (GPT, GRUB in a BIOS boot partition, kernel inside, cloud-init, no gcc, no
 * headers, no nginx, no toa-lab key unit, no agent) — and the harness is given
 * only its path. It must boot it through SeaBIOS, get in through a cloud-init
 * seed as a per-run sudo user, find out it is Debian 12, install the toolchain
 * from Debian's archive through the run's package proxy, carry out the guide's
 * row, reboot, and pass every data-path scenario on the module it installed.
 */
describe('a disk image the lab did not build for itself (--image-file)', () => {
  let run: ToaLabRun;
  let cell: string;

  beforeAll(async () => {
    const image = await ensureCloudImage('debian-12-genericcloud', (line) => console.log(line));
    cell = basename(image.disk).replace(/\.qcow2$/, '');
    run = runToaLab(['--image-file', image.disk], { timeoutMs: 2_400_000 });
    console.log(run.stdout.split('\n').filter((l) => l.startsWith('#')).join('\n'));
    if (run.stderr) console.log(run.stderr);
  }, 2_700_000);

  afterAll(() => removeRunFolders());

  it('boots it through its own boot loader and provisions it with a cloud-init seed', () => {
    expect(run.stdout).toMatch(/qcow2 disk, [\d.]+ GiB, bios \(GPT with/);
    expect(run.stdout).toMatch(/cloud-init seed .* \(user toalab[0-9a-f]{6}, passwordless sudo\)/);
    const procedure = run.outcome(cell, 'guide-procedure');
    const names = procedure?.steps?.map((s) => `${s.kind}: ${s.status}: ${s.summary}`) ?? [];
    expect(names.find((n) => n.startsWith('provision:'))).toMatch(/^provision: passed: cloud-init done/);
    expect(names.find((n) => n.startsWith('detect-os:'))).toMatch(/Debian GNU\/Linux 12.*the guide's row debian-12/);
  });

  it("installs the toolchain from the OS's repositories (the image has none) and follows the guide's row to the end", () => {
    const procedure = run.outcome(cell, 'guide-procedure')!;
    const toolchain = procedure.steps!.find((s) => s.kind === 'toolchain')!;
    expect(toolchain.status).toBe('passed');
    expect(toolchain.summary).not.toMatch(/already installed/);
    expect(toolchain.commands.map((c) => c.stdout).join('')).toMatch(/installing .*linux-headers-\d/);
    expect(procedure.checks.filter((c) => !c.passed)).toEqual([]);
    expect(run.outcome(cell, 'reboot-persistence')?.checks.every((c) => c.passed)).toBe(true);
  });

  it('passes every data-path scenario on the module the guide installed', () => {
    for (const scenario of SCENARIOS) {
      const outcome = run.outcome(cell, scenario.id);
      expect(outcome?.error, scenario.id).toBeUndefined();
      expect(outcome?.checks.filter((c) => !c.passed && !c.informational) ?? [], scenario.id).toEqual([]);
    }
    expect(run.code).toBe(0);
  });

  it('leaves no QEMU, proxy or overlay behind', () => {
    expect(qemuProcessesUnder(`/tmp/toa-lab/s-${run.pid}-`)).toEqual([]);
    expect(processesNaming(`/tmp/toa-lab/s-${run.pid}-`, 'tinyproxy')).toEqual([]);
  });
});

function processesNaming(dir: string, program: string): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
        return cmd.includes(program) && cmd.includes(dir);
      } catch {
        return false;
      }
    })
    .map(Number);
}
