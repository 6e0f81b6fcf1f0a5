import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheRoot, recipeHash } from '../../harness/cache/artifact-cache.ts';
import { findFreeLocalPort } from '../../harness/vm/free-port.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256File } from '../../harness/images/checksum.ts';
import { ensureCloudImage } from '../../harness/images/cloud/build-cloud-image.ts';
import { SCENARIOS } from '../../scenarios/index.ts';
import { removeRunFolders, runToaLab, type ToaLabRun } from '../helpers/toa-lab-run.ts';

/**
 * A vendor's UEFI image named once in toa-lab.config.json, as a `cloud-image`
 * row (a URL and its sha256: served here by `python3 -m http.server` on 127.0.0.1,
 * as a vendor's mirror would — its own process: the run below blocks this one; downloaded once into the cache, verified, its cache entry
 * removed after the test), then run by the row's name: a cloud-format Debian 13
 * disk (GPT, an EFI system partition and no BIOS boot partition, GRUB for
 * x86_64-efi) — booted through OVMF, its firmware detected from the partition
 * table, the whole conformance set on it. Its VIP goes on the UCloud guide's
 * other way: the row's UserData (netplan form), handed to cloud-init in the seed
 * and run at first boot (`vipForm: "cloud-init"`); the harness only checks it,
 * once cloud-init is done and again after the reboot.
 */
describe('a cloud-image config row: a UEFI Debian 13 disk from a URL, by the row name', () => {
  let run: ToaLabRun;
  let server: ChildProcess;
  let download: { url: string; sha256: string };

  beforeAll(async () => {
    const image = await ensureCloudImage('debian-13-genericcloud-uefi', (line) => console.log(line));
    const served = mkdtempSync(join(tmpdir(), 'toa-lab-mirror-'));
    symlinkSync(image.disk, join(served, 'debian-13-genericcloud-amd64.qcow2'));
    const port = await findFreeLocalPort();
    server = spawn('python3', ['-m', 'http.server', '--bind', '127.0.0.1', '--directory', served, String(port)], { stdio: 'ignore' });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    download = { url: `http://127.0.0.1:${port}/debian-13-genericcloud-amd64.qcow2`, sha256: await sha256File(image.disk) };
    const config = join(mkdtempSync(join(tmpdir(), 'toa-lab-config-')), 'toa-lab.config.json');
    writeFileSync(config, JSON.stringify({ images: { 'debian-13': [{ kind: 'cloud-image', ...download, vipForm: 'cloud-init', vipMethod: 'netplan' }] } }));
    run = runToaLab(['--config', config, '--image', 'debian-13'], { timeoutMs: 3_000_000 });
    console.log(run.stdout.split('\n').filter((l) => l.startsWith('#')).join('\n'));
  }, 3_300_000);

  afterAll(() => {
    server.kill();
    // The port is the run's: its cache entry would never be used again.
    rmSync(join(cacheRoot(), 'downloads', recipeHash(download)), { recursive: true, force: true });
    removeRunFolders();
  });

  it('downloads the image once into the cache, verified against its sha256', () => {
    expect(run.stdout + run.stderr).toMatch(/downloading http:\/\/127\.0\.0\.1:\d+\/debian-13-genericcloud-amd64\.qcow2: \d+ % of \d+ MiB/);
    expect(run.outcome('debian-13', 'guide-procedure')?.error).toBeUndefined();
  });

  it('boots it through OVMF, detected from its partition table', () => {
    expect(run.stdout).toMatch(/uefi \(GPT with an EFI system partition and no BIOS boot partition\)/);
    expect(run.outcome('debian-13', 'guide-procedure')?.steps?.find((s) => s.kind === 'detect-os')?.summary).toMatch(/Debian GNU\/Linux 13.*the guide's row debian-13/);
  });

  it('has its VIPs from the UserData cloud-init ran at first boot, and again after the reboot', () => {
    expect(run.stdout).toMatch(/the debian-13 row's VIP UserData \(netplan\)/);
    const steps = run.outcome('debian-13', 'guide-procedure')?.steps ?? [];
    const vip = steps.find((s) => s.kind === 'vip');
    expect(vip?.name).toBe('VIP on lo from the UserData cloud-init ran at first boot (netplan)');
    expect(vip?.status).toBe('passed');
    expect(vip?.commands?.[0]?.stdout).toMatch(/^#!\/bin\/bash\n# toa-lab: UCloud UserData \(cloud-init\)/);
    const after = run.outcome('debian-13', 'reboot-persistence')?.steps ?? [];
    expect(after.find((s) => /VIPs .* on lo/.test(s.name))?.status).toBe('passed');
  });

  it("passes the guide's row, the reboot and every data-path scenario", () => {
    for (const id of ['guide-procedure', 'reboot-persistence', ...SCENARIOS.map((s) => s.id)]) {
      const outcome = run.outcome('debian-13', id);
      expect(outcome?.error, id).toBeUndefined();
      expect(outcome?.checks.filter((c) => !c.passed && !c.informational) ?? [], id).toEqual([]);
    }
    expect(run.code).toBe(0);
  });
});

/**
 * The same disk with the UserData of a method its OS lacks (the Debian row's
 * interfaces.d + `/etc/init.d/networking restart`; Debian 13's cloud image has
 * netplan, no ifupdown): cloud-init finishes with errors of its own, reported in its
 * words while the cell goes on, and the VIP check right after it fails with what lo holds.
 */
describe('a UserData that fails in the guest: cloud-init errors, then the VIP verdict', () => {
  let run: ToaLabRun;

  beforeAll(async () => {
    const image = await ensureCloudImage('debian-13-genericcloud-uefi', (line) => console.log(line));
    const config = join(mkdtempSync(join(tmpdir(), 'toa-lab-config-')), 'toa-lab.config.json');
    writeFileSync(config, JSON.stringify({ images: { 'debian-13': [{ kind: 'local-image', path: image.disk, vipForm: 'cloud-init', vipMethod: 'interfaces-d' }] } }));
    run = runToaLab(['--config', config, '--image', 'debian-13', '--scenario', 'guide-procedure'], { timeoutMs: 1_800_000 });
    console.log(run.stdout.split('\n').filter((l) => l.startsWith('#')).join('\n'));
  }, 2_000_000);

  afterAll(() => removeRunFolders());

  it("reports cloud-init's own errors and goes on", () => {
    const steps = run.outcome('debian-13', 'guide-procedure')?.steps ?? [];
    const cloudInit = steps.find((s) => s.kind === 'provision');
    expect(cloudInit?.status).toBe('passed');
    expect(cloudInit?.summary).toMatch(/^cloud-init finished with errors of its own \(status: (error|degraded)\): /);
    expect(steps.find((s) => s.kind === 'detect-os')?.status).toBe('passed');
  });

  it('fails the VIP check with what lo holds, before any toolchain is installed', () => {
    const steps = run.outcome('debian-13', 'guide-procedure')?.steps ?? [];
    const vip = steps.find((s) => s.kind === 'vip');
    expect(vip?.status).toBe('failed');
    expect(vip?.summary).toMatch(/^the UserData did not leave the VIPs on lo: .*192\.0\.2\.100 is not on lo/);
    expect(steps.some((s) => s.kind === 'toolchain')).toBe(false);
    expect(run.code).toBe(1);
  });
});
