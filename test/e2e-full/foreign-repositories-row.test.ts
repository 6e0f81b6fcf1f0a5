import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCloudImage } from '../../harness/images/cloud/build-cloud-image.ts';
import { removeRunFolders, runToaLab, type ToaLabRun } from '../helpers/toa-lab-run.ts';

/**
 * A row's own package archive (config `repositories`) and an explicit `firmware`, on a disk
 * the lab did not prepare for itself: the cloud-format BIOS Debian 12 disk as a `local-image`
 * row. The archive is the host the lab already reaches (Debian's), written with an explicit
 * `:80` so that only the rewritten sources name it that way: the guest's apt then fetches the
 * toolchain from it through the run's package proxy, and the repositories step's own verify
 * (in the guest) finds the URL in its sources.
 */
const ARCHIVE = 'http://deb.debian.org:80/debian';
const SECURITY = 'http://deb.debian.org:80/debian-security';

describe("a config row with its own archive and firmware (the cloud-format Debian 12 disk)", () => {
  let run: ToaLabRun;

  beforeAll(async () => {
    const image = await ensureCloudImage('debian-12-genericcloud', (line) => console.log(line));
    const config = join(mkdtempSync(join(tmpdir(), 'toa-lab-repositories-row-')), 'toa-lab.config.json');
    writeFileSync(
      config,
      JSON.stringify({
        images: { 'debian-12': [{ kind: 'local-image', path: image.disk, firmware: 'bios' }] },
        repositories: { 'debian-12': { archive: ARCHIVE, security: SECURITY } },
      }),
    );
    run = runToaLab(['--config', config, '--image', 'debian-12', '--scenario', 'guide-procedure'], { timeoutMs: 2_400_000 });
    console.log(run.stdout.split('\n').filter((l) => l.startsWith('#')).join('\n'));
  }, 2_700_000);

  afterAll(() => removeRunFolders());

  it('boots the disk by the firmware the row names', () => {
    expect(run.stdout).toMatch(/debian-12: .*bios/);
  });

  it("points apt at the row's archive before the toolchain, and the toolchain comes from it", () => {
    const steps = run.outcome('debian-12', 'guide-procedure')?.steps ?? [];
    // Both the repositories step and the toolchain are the image's side of the verdict (kind toolchain).
    const [repositories, toolchain] = steps.filter((s) => s.kind === 'toolchain');
    expect(repositories?.name).toContain(ARCHIVE);
    expect(repositories?.status, repositories?.summary).toBe('passed');
    expect(toolchain?.status, toolchain?.summary).toBe('passed');
    const outcome = run.outcome('debian-12', 'guide-procedure');
    expect(outcome?.error).toBeUndefined();
    expect(outcome?.checks.filter((c) => !c.passed && !c.informational) ?? []).toEqual([]);
    expect(run.code).toBe(0);
  });
});
