import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runKernelUpgradeCase, type KernelUpgradeRun } from '../../harness/kernel-upgrade/kernel-upgrade-case.ts';
import { ensureMainKernelImage, type MainKernelImage } from '../../harness/kernel-upgrade/main-kernel-image.ts';
import { formatKernelUpgradeRun } from '../../harness/kernel-upgrade/kernel-upgrade-report.ts';
import { RunSession } from '../../harness/lifecycle/run-session.ts';
import { qemuProcessesUnder } from '../helpers/qemu-processes.ts';

/**
 * Project issue 10 §4, the Huawei guide's warning run for real: "If the kernel is upgraded,
 * the current module will no longer match. Compile the module again." On the lab's Debian 12
 * as installed from bookworm (main's kernel), the guide's procedure; then the security
 * pocket's kernel (apt-get), a reboot through GRUB's default entry, and what the guest shows;
 * then the two remedies, each on its own guest: the guide's rebuild (verified after a second
 * reboot) and DKMS, set up before the upgrade, doing it by itself. Verdicts from the guest:
 * uname -r, /proc/modules, modprobe/insmod exit codes, dkms status, the backend's own log.
 */
describe("the kernel changes under an installed Debian 12 (bookworm main's kernel → the security pocket's)", () => {
  let image: MainKernelImage;
  const sessions: RunSession[] = [];
  const log = (line: string) => console.log(`[kernel-upgrade] ${line}`);

  beforeAll(async () => {
    image = await ensureMainKernelImage(log);
  }, 1_800_000);

  afterAll(async () => {
    for (const session of sessions) await session.close();
    // Nothing outlives the case: no QEMU, no overlay, no socket.
    for (const session of sessions) {
      expect(qemuProcessesUnder(session.dir)).toEqual([]);
      expect(existsSync(session.dir)).toBe(false);
    }
  });

  async function runCase(remedy: KernelUpgradeRun['remedy']): Promise<KernelUpgradeRun> {
    const session = await RunSession.open();
    sessions.push(session);
    const started = Date.now();
    const run = await runKernelUpgradeCase(session, { remedy, image, log: (line) => log(`${remedy}: ${line}`) });
    console.log(`${remedy}: ${((Date.now() - started) / 1000).toFixed(0)} s\n${formatKernelUpgradeRun(run)}`);
    await session.close();
    return run;
  }

  it("the guide's module after the upgrade: what the guest shows; the guide's rebuild; toa back after a second reboot", async () => {
    const run = await runCase('rebuild');
    expect(run.steps.filter((s) => s.status !== 'passed').map((s) => `${s.name}: ${s.summary}`)).toEqual([]);
    expect(run.checks.filter((c) => !c.passed)).toEqual([]);
    expect(run.from?.release).toBe(image.kernelRelease);
    expect(run.to?.release).not.toBe(image.kernelRelease);

    // The finding, from the guest: the new kernel runs, toa is not there, and neither a load by
    // name (what modules-load.d does) nor the old module by path (the guide's insmod) brings it.
    const after = run.afterUpgrade!;
    expect(after.release).toBe(run.to!.release);
    expect(after.toaLoaded).toBe(false);
    expect(after.modprobe?.exitCode).not.toBe(0);
    expect(after.guideModule?.builtFor).toBe(run.from!.release);
    expect(after.guideModule?.insmod?.exitCode).not.toBe(0);
    expect(after.installed.map((i) => i.release)).toEqual([run.from!.release]);

    // The remedy held across a reboot: loaded at boot on the new kernel, from its own modules.
    const remedied = run.afterRemedy!;
    expect(remedied.release).toBe(run.to!.release);
    expect(remedied.toaLoaded).toBe(true);
    expect(remedied.installed.map((i) => i.release).sort()).toEqual([run.from!.release, run.to!.release].sort());
    // Traffic: before (clients), after the upgrade (the balancer), rebuilt, after the second reboot (clients).
    expect(run.checks.filter((c) => c.name.includes('the access log names'))).toHaveLength(4);
    expect(run.completed).toBe(true);
  }, 3_000_000);

  it('DKMS set up before the upgrade builds toa for the new kernel by itself: loaded after the reboot, no manual step', async () => {
    const run = await runCase('dkms');
    expect(run.steps.filter((s) => s.status !== 'passed').map((s) => `${s.name}: ${s.summary}`)).toEqual([]);
    expect(run.checks.filter((c) => !c.passed)).toEqual([]);
    const after = run.afterUpgrade!;
    expect(after.release).toBe(run.to!.release);
    expect(after.toaLoaded).toBe(true);
    expect(after.dkms.filter((d) => d.state === 'installed').map((d) => d.release).sort()).toEqual([run.from!.release, run.to!.release].sort());
    expect(after.installed.some((i) => i.release === run.to!.release)).toBe(true);
    // Nothing ran between the upgrade's reboot and this traffic but the backend's start.
    expect(run.checks.filter((c) => c.name.includes('the access log names'))).toHaveLength(2);
    expect(run.completed).toBe(true);
  }, 3_000_000);
});
