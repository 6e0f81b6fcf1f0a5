import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { succeeded } from '../exec/command-result.ts';
import { runHostCommand } from '../exec/run-host-command.ts';
import { ensureMicroVmImage } from '../images/microvm/build-microvm-image.ts';
import type { RunSession } from '../lifecycle/run-session.ts';
import { repoRoot } from '../repo-root.ts';
import { StepFailure, type StepResult } from '../core/step.ts';
import { scenarioPassed, type Check, type ScenarioOutcome } from '../core/scenario.ts';
import { fullnatToaV4 } from '../../scenarios/fullnat-toa-v4.ts';
import { centos6AutoloadFiles } from './autoload-files.ts';
import { assembleDiskTree, GRUB_CONF, initialGrubConf, LAB_KERNEL_ARGS, makeExt4Image } from './boot-disk.ts';
import { editBootLoader } from './boot-loader.ts';
import { addGrubLegacyEntry, parseGrubLegacy } from './grub-legacy.ts';
import { HostMachine } from './tree-access.ts';
import type { PatchedKernel } from './kernel-cache.ts';
import { runPatchedKernelOnDebian12 } from './debian12-procedure.ts';
import { NOHZ_OFF, prepareKernel, stepSequence } from './procedure-common.ts';
import { PatchedKernelLab } from './patched-kernel-lab.ts';
import { bootFromDisk, type DiskVm } from './patched-kernel-vm.ts';

/**
 * The Huawei guide's 2.6.32 procedure ("rebuild the kernel with TOA in-tree"),
 * carried out for real and reported step by step:
 *
 *   1–5  obtain the tree, toa.h, .config, Makefile, make / modules_install / install
 *        (on the host, cached: kernel-cache.ts; a TCG guest would take hours)
 *   6    boot loader: grub.conf default = the -toa stanza, nohz=off on its kernel line
 *   7    reboot (the harness plays firmware + GRUB from the disk); uname -r has the
 *        suffix; modprobe toa; dmesg; the startup script and the cron monitor
 *   8    the FULLNAT TOA scenario on that kernel
 */
export interface PatchedKernelRun {
  steps: StepResult[];
  passed: boolean;
  kernel?: PatchedKernel;
  /** What the guest showed: uname -r, the TOA dmesg lines, the scenario's checks. */
  guest: { unameR?: string; cmdline?: string; dmesgToa?: string[]; scenario?: ScenarioOutcome };
  timings: {
    kernelMs: number;
    totalMs: number;
    bootMs?: number;
    /** Debian 12 target: the image's first boot (QEMU start to SSH login). */
    firstBootMs?: number;
    /** Debian 12 target: push, depmod, installkernel (initramfs, update-grub). */
    installMs?: number;
    /** Debian 12 target: systemctl reboot to an SSH login on the chosen kernel. */
    rebootMs?: number;
  };
  /** The booted -toa guest, once step 7a has run (busybox-grub-legacy target). */
  vm?: DiskVm;
  /** Stops the guest now (the session would at its close). */
  stop(): Promise<void>;
}

/**
 * Where steps 5b–8 happen:
 * - `busybox-grub-legacy` (default): the CentOS 6 layout — a busybox/ext4 disk of its
 *   own with a GRUB legacy grub.conf, booted by the harness as firmware;
 * - `debian-12`: the lab's full Debian 12 image over SSH — installkernel, initramfs,
 *   update-grub's grub.cfg, systemd, cron (debian12-procedure.ts).
 */
export type PatchedKernelTarget = 'busybox-grub-legacy' | 'debian-12';

export interface PatchedKernelRunOptions {
  session: RunSession;
  target?: PatchedKernelTarget;
  /** The guide's kind edit, 200 -> 254. */
  toaKind?: number;
  extraversion?: string;
  /** Test hook: skip the guide's grub.conf edit (the machine then boots its old kernel). */
  skipBootLoaderEdit?: boolean;
  /**
   * Stop after step 7 and leave the guest running (`run.vm`): `toa-lab run` then carries
   * out step 8 itself, every data-path scenario through the ordinary scenario runner.
   */
  scenariosByCaller?: boolean;
  log?: (line: string) => void;
}

export async function runPatchedKernelProcedure(options: PatchedKernelRunOptions): Promise<PatchedKernelRun> {
  if (options.target === 'debian-12') return runPatchedKernelOnDebian12(options);
  const started = Date.now();
  const log = options.log ?? (() => {});
  const extraversion = options.extraversion ?? '-toa';
  const steps: StepResult[] = [];
  let vm: DiskVm | undefined;
  const run: PatchedKernelRun = { steps, passed: false, guest: {}, timings: { kernelMs: 0, totalMs: 0 }, stop: async () => vm?.stop() };
  const finish = (): PatchedKernelRun => {
    run.passed = steps.length > 0 && steps.every((s) => s.status === 'passed');
    run.timings.totalMs = Date.now() - started;
    return run;
  };

  // Steps 1–5: built once per machine.
  const prepared = await prepareKernel({ toaKind: options.toaKind ?? 254, extraversion, log }, steps);
  if (!prepared) return finish();
  const { kernel } = prepared;
  run.kernel = kernel;
  run.timings.kernelMs = prepared.kernelMs;
  const step = stepSequence(steps, log);

  // Step 6: the disk as `make install` leaves it, then the guide's grub.conf edit.
  const diskDir = await options.session.subdir('disk');
  const disk = join(diskDir, 'disk.img');
  await step('6. Boot loader: grub.conf default = the new kernel, nohz=off', async (rec) => {
    const oldKernel = await ensureMicroVmImage({ onProgress: log });
    const tree = join(diskDir, 'root');
    await assembleDiskTree({
      dir: tree,
      oldKernel,
      stagingRoot: kernel.root,
      release: kernel.release,
      toaModule: prepared.toaModule,
      autoload: centos6AutoloadFiles(),
      toaBackend: await buildBackend(diskDir),
    });
    const grubPath = join(tree, GRUB_CONF);
    // What `make install` does on CentOS 6 (new-kernel-pkg): new stanza on top, default kept on the old kernel.
    const installed = addGrubLegacyEntry(initialGrubConf(oldKernel.kernelRelease), {
      title: `CentOS (${kernel.release})`,
      root: '(hd0,0)',
      kernel: `/boot/vmlinuz-${kernel.release}`,
      args: ['ro', 'root=/dev/vda', ...LAB_KERNEL_ARGS],
    });
    rec.evidence(`make install (new-kernel-pkg, as on CentOS 6): ${installed.summary}`);
    await writeFile(grubPath, installed.content);
    let editSummary = 'guide edit skipped';
    if (options.skipBootLoaderEdit) {
      rec.evidence('guide edit SKIPPED on request (test of the firmware step)');
    } else {
      const request = { release: kernel.release, addArgs: [NOHZ_OFF] };
      const machine = new HostMachine();
      const edited = await editBootLoader(machine, tree, request);
      editSummary = edited.edit.summary;
      rec.evidence(`guide edit (${edited.loader} ${edited.path}): ${edited.edit.summary}`);
      if ((await editBootLoader(machine, tree, request)).edit.changed) throw new StepFailure('the boot loader edit is not idempotent');
    }
    const conf = await readFile(grubPath, 'utf8');
    rec.evidence(`${GRUB_CONF}:\n${conf}`);
    await makeExt4Image(tree, disk);
    const parsed = parseGrubLegacy(conf);
    const chosen = parsed.entries[Number(parsed.default ?? 0)];
    return `${editSummary}; the disk's default: "${chosen?.title}" (${chosen?.kernel}${chosen?.args.includes(NOHZ_OFF) ? ` … ${NOHZ_OFF}` : ''})`;
  });

  // Step 7: reboot into it.
  await step('7a. Reboot: firmware boots grub.conf\'s default entry from the disk', async (rec) => {
    vm = await bootFromDisk({ session: options.session, disk, log });
    run.vm = vm;
    options.session.defer(() => vm?.stop());
    run.timings.bootMs = vm.bootMs;
    rec.evidence(vm.console.contents.split('\n').filter((l) => /toa-lab:|TOA/.test(l)).join('\n'));
    return `"${vm.boot.title}": ${vm.boot.kernelPath} ${vm.boot.commandLine}; up in ${(vm.bootMs / 1000).toFixed(1)} s (${vm.accelerator.accelerator})`;
  });

  await step(`7b. uname -r carries ${extraversion}; nohz=off on the kernel command line`, async (rec) => {
    const uname = rec.record(await vm!.agent.check('uname -r'));
    const cmdline = rec.record(await vm!.agent.check('cat /proc/cmdline'));
    run.guest.unameR = uname.stdout.trim();
    run.guest.cmdline = cmdline.stdout.trim();
    if (!run.guest.unameR.endsWith(extraversion)) throw new StepFailure(`uname -r is ${run.guest.unameR}: the machine did not boot the ${extraversion} kernel`);
    if (!run.guest.cmdline.split(/\s+/).includes(NOHZ_OFF)) throw new StepFailure(`/proc/cmdline lacks ${NOHZ_OFF}: ${run.guest.cmdline}`);
    return `uname -r = ${run.guest.unameR}; /proc/cmdline has ${NOHZ_OFF}`;
  });

  await step('7c. modprobe toa; dmesg | grep TOA', async (rec) => {
    const agent = vm!.agent;
    const atBoot = rec.record(await agent.run('grep "^toa " /proc/modules'));
    const bootLines = vm!.console.contents.split('\n').filter((l) => /toa-lab: (ran|startup)/.test(l));
    rec.evidence(`at boot (serial console):\n${bootLines.join('\n')}`);
    if (!succeeded(atBoot)) throw new StepFailure('toa was not loaded at boot by /etc/sysconfig/modules/toa.modules');
    const modprobe = rec.record(await agent.run('modprobe toa'));
    if (!succeeded(modprobe)) throw new StepFailure(`modprobe toa failed: ${modprobe.stderr.trim()}`);
    const where = rec.record(await agent.check('modinfo -F filename toa; modinfo -F intree toa; modinfo -F vermagic toa'));
    const dmesg = rec.record(await agent.run('dmesg | grep TOA'));
    run.guest.dmesgToa = dmesg.stdout.trim().split('\n').filter(Boolean);
    const loaded = run.guest.dmesgToa.find((l) => l.includes('TOA: toa loaded'));
    if (!loaded) throw new StepFailure('dmesg has no "TOA: toa loaded"');
    const kind = options.toaKind ?? 254;
    if (!new RegExp(`kinds ${kind}\\b`).test(loaded)) throw new StepFailure(`the module's default kind is not ${kind} (TCPOPT_TOA from toa.h): ${loaded}`);
    const [filename, intree] = where.stdout.trim().split('\n');
    if (!filename?.includes(`/lib/modules/${run.guest.unameR}/kernel/net/toa/`)) throw new StepFailure(`modprobe resolves toa to ${filename}, not the in-tree module`);
    return `loaded at boot by toa.modules; modprobe toa exit 0; ${filename} (intree=${intree ?? '?'}); ${loaded.replace(/^\[\s*[\d.]+\]\s*/, '')}`;
  });

  await step('7d. modprobe toa in the startup script and the cron monitor (rmmod, run the monitor)', async (rec) => {
    const agent = vm!.agent;
    const files = centos6AutoloadFiles();
    const startup = rec.record(await agent.check(`ls -l ${files.startupScript.path} && cat ${files.startupScript.path}`));
    if (!/modprobe toa/.test(startup.stdout)) throw new StepFailure(`${files.startupScript.path} has no modprobe toa`);
    const crontab = rec.record(await agent.check(`cat ${files.cronFile.path} ${files.rootCrontab.path}; pidof crond`));
    if (!crontab.stdout.includes(files.monitorCommand)) throw new StepFailure(`the crontab does not run ${files.monitorCommand}`);
    rec.record(await agent.check('rmmod toa'));
    const gone = rec.record(await agent.run('grep "^toa " /proc/modules'));
    if (succeeded(gone)) throw new StepFailure('toa is still loaded after rmmod');
    const monitor = rec.record(await agent.run(files.monitorCommand));
    const back = rec.record(await agent.run('grep "^toa " /proc/modules && dmesg | grep "TOA: toa" | tail -n 2'));
    if (!succeeded(monitor) || !succeeded(back)) throw new StepFailure(`the monitor (${files.monitorCommand}) did not load toa again`);
    return `startup script and cron (${files.rootCrontab.content.trim()}) both run modprobe toa; after rmmod, the monitor reloaded it`;
  });

  if (options.scenariosByCaller) return finish();
  await step('8. FULLNAT TOA scenario (fullnat-toa-v4) on the -toa kernel', async (rec) => {
    const lab = await PatchedKernelLab.start(options.session, vm!);
    const scenarioStarted = Date.now();
    let checks: Check[] = [];
    let error: string | undefined;
    try {
      checks = await fullnatToaV4.run(lab);
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    const outcome: ScenarioOutcome = {
      scenario: fullnatToaV4.id,
      title: fullnatToaV4.title,
      checks,
      durationMs: Date.now() - scenarioStarted,
      ...(error && { error }),
    };
    run.guest.scenario = outcome;
    // The backend's own words: its last log lines (client as getpeername() and accept() saw it).
    rec.record(await vm!.agent.run(`tail -n 3 ${lab.backend.logFile}`));
    for (const c of checks) rec.evidence(`${c.passed ? 'ok' : 'NOT OK'} ${c.name}: ${c.observed}`);
    if (!scenarioPassed(outcome)) {
      const failed = checks.find((c) => !c.passed && !c.informational);
      throw new StepFailure(error ?? `${failed?.name}: expected ${failed?.expected}, observed ${failed?.observed}`);
    }
    const loaded = checks[0]?.evidence?.split('\n')[0] ?? '';
    return `${checks.filter((c) => !c.informational).length} checks passed (${loaded})`;
  });

  return finish();
}

async function buildBackend(dir: string): Promise<string> {
  const build = join(dir, 'backend');
  await mkdir(build, { recursive: true });
  await cp(join(repoRoot(), 'native', 'backend', 'toa-backend.c'), join(build, 'toa-backend.c'));
  await cp(join(repoRoot(), 'native', 'backend', 'Makefile'), join(build, 'Makefile'));
  await runHostCommand('make', ['-C', build], { timeoutMs: 300_000 });
  await readFile(join(build, 'toa-backend'));
  return join(build, 'toa-backend');
}
