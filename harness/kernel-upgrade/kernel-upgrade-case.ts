import { check, type Check } from '../core/scenario.ts';
import { runStep, StepFailure, type StepResult } from '../core/step.ts';
import { succeeded } from '../exec/command-result.ts';
import { FULL_OS_PLAN } from '../lab/full-os-conformance.ts';
import { pushToaSource, runGuideStep, verifyModuleAutoloaded, verifyVipsPresent } from '../lab/full-os-procedure.ts';
import { pythonBackend, sendThroughBalancer } from '../lab/full-os-traffic.ts';
import { resolveKernel, type ResolvedKernel } from '../kernels/archive-kernels.ts';
import type { RunSession } from '../lifecycle/run-session.ts';
import { QemuMachine } from '../machine/qemu-machine.ts';
import { renderGrubAsInstalledScript } from '../patched-kernel/debian-make-install.ts';
import { selectBootEntryFromQcow2, type BootSelection } from '../patched-kernel/firmware.ts';
import { renderRowGuide, type GuideStep } from '../toa/install-guide-steps.ts';
import { ensureMainKernelImage, type MainKernelImage } from './main-kernel-image.ts';
import { describeObservation, observeModule, type ModuleObservation } from './module-observation.ts';
import { renderKernelUpgradeScript, sourcesListHosts } from './upgrade-scripts.ts';

/**
 * Project issue 10 §4 — "If the kernel is upgraded, the current module will no longer
 * match. Compile the module again." (Huawei guide), run for real on an installed Debian 12:
 *
 *   1. the guide's procedure (Debian row: make, insmod, modules-load.d, VIP, python3 -m
 *      http.server) on bookworm main's kernel; the backend's log names the injected clients;
 *   2. GRUB 2 as an installed system has it, then the upgrade the security pocket brings
 *      (linux-image-amd64 + linux-headers-amd64, apt-get), reboot through GRUB's default entry;
 *   3. what the guest then shows, from the guest: uname -r, /proc/modules,
 *      systemd-modules-load's state and journal, modprobe's and insmod's words, dkms status,
 *      and the backend's own log;
 *   4. the remedy:
 *      - `rebuild`: the guide's own — toolchain for the new kernel, make, insmod, autoload —
 *        then TOA through the balancer, a second reboot, toa loaded at boot, TOA again;
 *      - `dkms`: the DKMS autoload (dkms.conf, AUTOINSTALL) set up before the upgrade, so the
 *        upgrade's own kernel hooks build toa.ko for the new kernel; after the reboot toa is
 *        loaded with no manual step, and TOA works.
 *
 * Reboots go through the harness as firmware (harness/patched-kernel/firmware.ts): QEMU
 * boots what grub.cfg's default entry names on the guest's disk, so the upgrade's own
 * update-grub decides which kernel runs, as on real hardware.
 */
export type KernelUpgradeRemedy = 'rebuild' | 'dkms';

export interface KernelUpgradeOptions {
  remedy: KernelUpgradeRemedy;
  log?: (line: string) => void;
  /** Built once by the caller when it runs both remedies (default: ensured here). */
  image?: MainKernelImage;
}

export interface KernelUpgradeRun {
  remedy: KernelUpgradeRemedy;
  /** The kernel the image boots (bookworm's) and the one the upgrade installs (bookworm-security's). */
  from?: { release: string; version: string };
  to?: { release: string; version: string; pocket: string };
  steps: StepResult[];
  /** Traffic verdicts (backend's own log) and the typed facts the case rests on. */
  checks: Check[];
  /** What the guest showed after the upgrade's reboot, before any manual step. */
  afterUpgrade?: ModuleObservation;
  /** rebuild: after the second reboot. */
  afterRemedy?: ModuleObservation;
  /** Every step ran and passed (checks are judged apart). */
  completed: boolean;
}

const SECURITY_POCKET = 'bookworm-security';
const GUIDE_MODULE = `${FULL_OS_PLAN.toaSourceDir}/toa.ko`;
const VIPS = FULL_OS_PLAN.interfacesDVips;
const BACKEND = pythonBackend(FULL_OS_PLAN.pythonPort);
/** apt, dpkg, initramfs-tools, update-grub — and with dkms a module build — under TCG. */
const UPGRADE_TIMEOUT_MS = 1_500_000;
/** dkms add + build + install is a second compile of toa.c under TCG: more than the guide's autoload needs. */
const DKMS_AUTOLOAD_TIMEOUT_MS = 600_000;

export async function runKernelUpgradeCase(session: RunSession, options: KernelUpgradeOptions): Promise<KernelUpgradeRun> {
  const log = options.log ?? (() => {});
  const run: KernelUpgradeRun = { remedy: options.remedy, steps: [], checks: [], completed: false };
  const ok = async (step: Promise<StepResult> | StepResult): Promise<boolean> => {
    const result = await step;
    run.steps.push(result);
    log(`${result.status} ${(result.durationMs / 1000).toFixed(1)} s  ${result.name}: ${result.summary}`);
    return result.status === 'passed';
  };
  const traffic = async (label: string, expect: 'simulated-clients' | 'balancer'): Promise<boolean> =>
    ok(
      runStep(`${label}: ${BACKEND.label}'s own log names ${expect === 'simulated-clients' ? 'the injected clients' : 'the balancer'}`, async (rec) => {
        const round = await sendThroughBalancer(lab!, BACKEND, { connections: 4, toa: {}, expect });
        const named = round.checks.map((c) => ({ ...c, name: `${label}: ${c.name}` }));
        run.checks.push(...named);
        rec.evidence(`${BACKEND.accessLog}:\n${round.log.map((r) => JSON.stringify(r)).join('\n')}`);
        const failed = named.find((c) => !c.passed);
        if (failed) throw new StepFailure(`${failed.name}: expected ${failed.expected}, observed ${failed.observed}`);
        return `${[...new Set(round.log.map((r) => r.clientIp))].join(', ')}`;
      }, 'backend'),
    );

  let lab: QemuMachine | undefined;
  let image: MainKernelImage | undefined = options.image;
  let to: ResolvedKernel | undefined;
  const guide = renderRowGuide('debian-12', FULL_OS_PLAN, { autoload: options.remedy === 'dkms' ? 'dkms' : 'default' });
  const setup = guide.setup.map((s): GuideStep => (s.id === 'autoload' && options.remedy === 'dkms' ? { ...s, timeoutMs: DKMS_AUTOLOAD_TIMEOUT_MS } : s));
  const stepOf = (id: GuideStep['id']): GuideStep => setup.find((s) => s.id === id) ?? guide.backends.find((s) => s.id === id)!;
  const guideSteps = async (ids: ReadonlyArray<GuideStep['id']>): Promise<boolean> => {
    for (const id of ids) if (!(await ok(runGuideStep(lab!, stepOf(id))))) return false;
    return true;
  };

  // 1. bookworm main's kernel, and the guide's procedure on it.
  const booted = await ok(
    runStep("boot Debian 12 as installed from bookworm (security updates pending) on bookworm main's kernel", async (rec) => {
      image ??= await ensureMainKernelImage(log);
      to = await resolveKernel({ suite: SECURITY_POCKET, flavour: 'generic' }, log);
      run.from = { release: image.kernelRelease, version: image.archiveKernel.image.version };
      run.to = { release: to.release, version: to.image.version, pocket: SECURITY_POCKET };
      if (to.release === image.kernelRelease) throw new StepFailure(`${SECURITY_POCKET} serves the same kernel as bookworm (${to.release}): there is no upgrade to make`);
      lab = await QemuMachine.start(session, { builtImage: image, packageHosts: sourcesListHosts(image.sourcesList), log });
      const uname = rec.record(await lab.guest.check('uname -r')).stdout.trim();
      rec.record(await lab.guest.check('cat /etc/apt/sources.list'));
      if (uname !== image.kernelRelease) throw new StepFailure(`the guest runs ${uname}, not bookworm's ${image.kernelRelease}`);
      return `${image.name} on ${uname} (${run.from.version}); the upgrade on offer: ${to.release} (${run.to.version}) from ${SECURITY_POCKET}`;
    }, 'boot'),
  );
  if (!booted) return run;
  const setupOk =
    (await guideSteps(['toolchain'])) &&
    (await ok(pushToaSource(lab!, FULL_OS_PLAN.toaSourceDir))) &&
    (await guideSteps(['toa-build', 'toa-load', 'autoload', 'vip', 'backend'])) &&
    (await traffic(`before the upgrade (${run.from!.release})`, 'simulated-clients'));
  if (!setupOk) return run;

  // 2. The upgrade, as an operator of an installed system makes it; the reboot GRUB decides.
  const upgraded =
    (await ok(
      runStep('GRUB 2 as installed: /boot/grub/grub.cfg by update-grub (the upgrade\'s zz-update-grub keeps it current)', async (rec) => {
        const result = await runScript(lab!, rec, 'grub-as-installed', renderGrubAsInstalledScript(), 300_000);
        return result;
      }, 'lab'),
    )) &&
    (await ok(
      runStep(`kernel upgrade from ${SECURITY_POCKET}: apt-get install linux-image-amd64 linux-headers-amd64 (${run.to!.version})`, async (rec) => {
        const said = await runScript(lab!, rec, 'kernel-upgrade', renderKernelUpgradeScript({ pocket: SECURITY_POCKET, version: run.to!.version, release: run.to!.release }), UPGRADE_TIMEOUT_MS);
        // What the kernel hooks did (dkms among them) is in apt's output, recorded above.
        rec.record(await lab!.guest.run('ls /boot; dkms status 2>/dev/null || true'));
        return said;
      }, 'kernel-upgrade'),
    )) &&
    (await rebootThroughGrub(run.to!.release));
  if (!upgraded) return run;

  // 3. What the guest shows, before anyone does anything.
  const observed = await ok(
    runStep(`after the upgrade's reboot, before any manual step: what the guest shows about toa`, async (rec) => {
      run.afterUpgrade = await observeModule(lab!.guest, rec, GUIDE_MODULE);
      rec.evidence(`systemd-modules-load (journal of this boot):\n${run.afterUpgrade.modulesLoadJournal.join('\n')}`);
      return describeObservation(run.afterUpgrade);
    }, 'after-reboot'),
  );
  if (!observed) return run;
  const after = run.afterUpgrade!;
  run.checks.push(check('after the upgrade: the guest runs the new kernel', after.release === run.to!.release, run.to!.release, after.release));

  if (options.remedy === 'rebuild') {
    // The guide's warning, as the guest shows it.
    run.checks.push(
      check(
        'after the upgrade: the module built by the guide is not loaded (the guide: "the current module will no longer match")',
        !after.toaLoaded,
        'toa not in /proc/modules',
        after.toaLoaded ? 'toa loaded' : `not loaded; systemd-modules-load ${after.modulesLoadState}`,
        after.modulesLoadJournal.join('\n'),
      ),
      check(
        'after the upgrade: toa.ko is installed only for the old kernel',
        !after.installed.some((i) => i.release === after.release) && after.installed.some((i) => i.release === run.from!.release),
        `a toa.ko under /lib/modules/${run.from!.release} only`,
        after.installed.map((i) => i.path).join(', ') || 'none',
      ),
    );
    const remedied =
      (await ok(runGuideStep(lab!, stepOf('backend')))) &&
      (await traffic(`after the upgrade, no rebuild (${after.release})`, 'balancer')) &&
      // 4a. The guide's remedy: compile the module again, for the running kernel.
      (await guideSteps(['toolchain', 'toa-build', 'toa-load', 'autoload'])) &&
      (await traffic(`rebuilt for ${after.release}`, 'simulated-clients')) &&
      (await rebootThroughGrub(run.to!.release)) &&
      (await ok(verifyModuleAutoloaded(lab!))) &&
      (await ok(verifyVipsPresent(lab!, VIPS))) &&
      (await ok(
        runStep('after the second reboot: what the guest shows about toa', async (rec) => {
          run.afterRemedy = await observeModule(lab!.guest, rec, GUIDE_MODULE);
          return describeObservation(run.afterRemedy);
        }, 'after-reboot'),
      )) &&
      (await ok(runGuideStep(lab!, stepOf('backend')))) &&
      (await traffic(`rebuilt, after the second reboot (${run.to!.release})`, 'simulated-clients'));
    if (run.afterRemedy) {
      const r = run.afterRemedy;
      run.checks.push(
        check(
          'after the rebuild and a second reboot: toa loaded at boot from the new kernel\'s modules',
          r.toaLoaded && r.release === run.to!.release && r.installed.some((i) => i.release === r.release),
          `toa loaded on ${run.to!.release}, installed under /lib/modules/${run.to!.release}`,
          describeObservation(r),
        ),
      );
    }
    run.completed = remedied;
    return run;
  }

  // 4b. DKMS: nothing but the upgrade and the reboot happened since TOA last worked.
  run.checks.push(
    check(
      'after the upgrade: dkms built and installed toa for the new kernel by itself',
      after.dkms.some((d) => d.module === 'toa' && d.release === run.to!.release && d.state === 'installed'),
      `dkms status: toa/… ${run.to!.release} installed`,
      after.dkms.map((d) => `${d.module}/${d.version} ${d.release} ${d.state}`).join(', ') || 'no dkms entry',
    ),
    check(
      'after the upgrade: toa loaded at boot, from the new kernel\'s modules, with no manual step',
      after.toaLoaded && after.installed.some((i) => i.release === after.release),
      `toa in /proc/modules, a toa.ko under /lib/modules/${run.to!.release}`,
      describeObservation(after),
    ),
  );
  run.completed =
    (await ok(verifyModuleAutoloaded(lab!))) &&
    (await ok(verifyVipsPresent(lab!, VIPS))) &&
    (await ok(runGuideStep(lab!, stepOf('backend')))) &&
    (await traffic(`dkms, after the upgrade's reboot (${run.to!.release})`, 'simulated-clients'));
  return run;

  /** `systemctl reboot`; the harness as firmware boots grub.cfg's default entry from the guest's disk. */
  async function rebootThroughGrub(expectRelease: string): Promise<boolean> {
    return ok(
      runStep("reboot (systemctl reboot): firmware boots grub.cfg's default entry from the disk", async (rec) => {
        let chosen: BootSelection | undefined;
        const rebooted = await lab!.rebootInto(session, async (disk) => {
          chosen = await selectBootEntryFromQcow2(disk, await session.subdir('firmware'));
          log(`firmware: ${chosen.configPath} default "${chosen.title}": ${chosen.kernelPath} ${chosen.commandLine}`);
          return { kernel: chosen.kernelFile, ...(chosen.initrdFile && { initrd: chosen.initrdFile }), commandLine: chosen.commandLine };
        });
        lab = rebooted.lab;
        rec.evidence(`boot_id ${rebooted.evidence.bootIdBefore} → ${rebooted.evidence.bootIdAfter}`);
        const uname = rec.record(await lab.guest.check('uname -r')).stdout.trim();
        if (uname !== expectRelease) throw new StepFailure(`GRUB's default entry "${chosen?.title}" booted ${uname}, not ${expectRelease}`);
        return `"${chosen?.title}": ${chosen?.kernelPath}; uname -r ${uname}; ssh after ${(rebooted.evidence.durationMs / 1000).toFixed(1)} s`;
      }, 'reboot'),
    );
  }
}

/** A rendered script, kept in the guest, run as root; its last `toa-lab:` line is the summary. */
async function runScript(lab: QemuMachine, rec: Parameters<Parameters<typeof runStep>[1]>[0], name: string, text: string, timeoutMs: number): Promise<string> {
  const path = `/var/lib/toa-lab/kernel-upgrade/${name}.sh`;
  rec.record(await lab.guest.writeFile(path, text, 0o755));
  const result = rec.record(await lab.guest.run(`sh ${path}`, { timeoutMs }));
  const said = (out: string) => out.split('\n').filter((l) => l.startsWith('toa-lab: ')).at(-1)?.slice('toa-lab: '.length);
  if (result.timedOut) throw new StepFailure(`${name}: still running after ${timeoutMs / 1000} s`);
  if (!succeeded(result)) throw new StepFailure(`${name}: exit ${result.exitCode}: ${said(result.stderr) ?? result.stderr.trim().split('\n').at(-1) ?? ''}`);
  return said(result.stdout) ?? 'done';
}
