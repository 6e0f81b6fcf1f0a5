import { succeeded, type CommandResult } from '../exec/command-result.ts';
import { prepareFullOsDataPath } from '../lab/full-os-data-path-lab.ts';
import { QemuMachine } from '../machine/qemu-machine.ts';
import { runGuideStep } from '../lab/full-os-procedure.ts';
import { pythonBackend, sendThroughBalancer } from '../lab/full-os-traffic.ts';
import { StepFailure, type StepRecorder } from '../core/step.ts';
import type { Check, ScenarioOutcome } from '../core/scenario.ts';
import { renderFullOsGuide } from '../toa/install-guide-steps.ts';
import { fullnatToaV4 } from '../../scenarios/fullnat-toa-v4.ts';
import type { DirectKernelBoot } from '../vm/full-os-vm.ts';
import { debian12AutoloadFiles } from './autoload-files.ts';
import { editBootLoader } from './boot-loader.ts';
import {
  guestTreeDir,
  renderGrubAsInstalledScript,
  renderGuestInstallKernelScript,
  renderGuestModulesInstallScript,
  stageGuestInstallInputs,
} from './debian-make-install.ts';
import { selectBootEntryFromQcow2, type BootSelection } from './firmware.ts';
import { defaultGrub2Entry } from './grub2.ts';
import { NOHZ_OFF, prepareKernel, stepSequence } from './procedure-common.ts';
import type { PatchedKernelRun, PatchedKernelRunOptions } from './procedure.ts';
import { GuestMachine } from './tree-access.ts';

/**
 * The guide's 2.6.32 procedure with the lab's Debian 12 image as the machine
 * (runPatchedKernelProcedure({ target: 'debian-12' })):
 *
 *   1–5d  the kernel from the cache, as for every target (procedure-common.ts)
 *   5e    QemuMachine('debian-12') up on its stock kernel; GRUB 2 as installed (update-grub)
 *   5f/5g make modules_install / make install land in the guest: push, depmod,
 *         installkernel → initramfs-tools, zz-update-grub (debian-make-install.ts)
 *   6     grub.cfg: default = the -toa entry, nohz=off on its linux line (grub2.ts)
 *   6b    modprobe toa in the startup script and the cron monitor (Debian's way)
 *   7a    systemctl reboot; the harness as firmware reads grub.cfg, kernel and initrd
 *         from the stopped guest's disk and boots them (QemuMachine.rebootInto)
 *   7b–7d uname -r, /proc/cmdline, modprobe toa + dmesg, startup script and monitor
 *   8a/8b FULLNAT TOA through the simulated balancer: python3 -m http.server's own log
 *         names the injected clients; with toa unloaded, the balancer
 *   8c    the fullnat-toa-v4 scenario itself, on toa-backend built in the guest
 */
const PYTHON_PORT = 80;
const INSTALL_TIMEOUT_MS = 600_000; // update-initramfs and update-grub under TCG: tens of seconds each
const SCRIPT_DIR = '/var/lib/toa-lab/patched-kernel';

export async function runPatchedKernelOnDebian12(options: PatchedKernelRunOptions): Promise<PatchedKernelRun> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const extraversion = options.extraversion ?? '-toa';
  const toaKind = options.toaKind ?? 254;
  const steps: PatchedKernelRun['steps'] = [];
  let lab: QemuMachine | undefined;
  const run: PatchedKernelRun = {
    steps,
    passed: false,
    guest: {},
    timings: { kernelMs: 0, totalMs: 0 },
    stop: async () => lab?.vm.stop(),
  };
  const finish = (): PatchedKernelRun => {
    run.passed = steps.length > 0 && steps.every((s) => s.status === 'passed');
    run.timings.totalMs = Date.now() - started;
    return run;
  };

  const prepared = await prepareKernel({ toaKind, extraversion, log }, steps);
  if (!prepared) return finish();
  const { kernel } = prepared;
  const release = kernel.release;
  run.kernel = kernel;
  run.timings.kernelMs = prepared.kernelMs;
  const step = stepSequence(steps, log);
  const guest = () => lab!.guest;
  /** A rendered script, kept in the guest as evidence, run as root; its last `toa-lab:` line is the summary. */
  const script = async (rec: StepRecorder, name: string, text: string): Promise<{ said: string; result: CommandResult }> => {
    const path = `${SCRIPT_DIR}/${name}.sh`;
    rec.record(await guest().writeFile(path, text, 0o755));
    const result = rec.record(await guest().run(`sh ${path}`, { timeoutMs: INSTALL_TIMEOUT_MS }));
    const said = (text: string) => text.split('\n').filter((l) => l.startsWith('toa-lab: ')).at(-1)?.slice('toa-lab: '.length);
    if (!succeeded(result)) throw new StepFailure(`${name}: exit ${result.exitCode}: ${said(result.stderr) ?? result.stderr.trim().split('\n').at(-1)}`);
    return { said: said(result.stdout) ?? 'done', result };
  };

  await step('5e. The lab\'s Debian 12 image up on its stock kernel (SSH); GRUB 2 as installed (update-grub)', async (rec) => {
    lab = await QemuMachine.start(options.session, { image: 'debian-12', log });
    run.timings.firstBootMs = lab.bootMs;
    const uname = rec.record(await guest().check('uname -r'));
    const grub = (await script(rec, 'grub-as-installed', renderGrubAsInstalledScript())).said;
    return `${lab.name} on ${uname.stdout.trim()}, ssh after ${(lab.bootMs / 1000).toFixed(1)} s (${lab.vm.accelerator.accelerator}); ${grub}`;
  });

  const installStarted = Date.now();
  await step(`5f. make modules_install in the guest: /lib/modules/${release} pushed, depmod ${release}`, async (rec) => {
    const inputs = await stageGuestInstallInputs({
      stagingRoot: kernel.root,
      release,
      toaModule: prepared.toaModule,
      dir: await options.session.subdir('make-install'),
    });
    const tree = rec.record(await guest().putDirectory(inputs.tree, guestTreeDir(release), () => true));
    const modules = rec.record(await guest().putDirectory(inputs.modules, `/lib/modules/${release}`, () => true));
    if (!succeeded(tree) || !succeeded(modules)) throw new StepFailure(`the push failed: ${tree.stderr || modules.stderr}`);
    const { said } = await script(rec, 'modules-install', renderGuestModulesInstallScript(release));
    return `pushed ${guestTreeDir(release)} (${tree.stdout.trim()}) and /lib/modules/${release} (${modules.stdout.trim()}); ${said}`;
  });

  await step(`5g. make install in the guest: installkernel ${release} → postinst.d (initramfs-tools, zz-update-grub)`, async (rec) => {
    const { said, result } = await script(rec, 'install-kernel', renderGuestInstallKernelScript(release));
    // run-parts --verbose names each hook on stderr.
    const hooks = `${result.stdout}\n${result.stderr}`.split('\n').filter((l) => l.startsWith('run-parts: executing'));
    rec.evidence(`postinst.d hooks run by installkernel:\n${hooks.join('\n')}`);
    if (!hooks.some((h) => h.includes('zz-update-grub'))) throw new StepFailure('installkernel did not run /etc/kernel/postinst.d/zz-update-grub');
    run.timings.installMs = Date.now() - installStarted;
    return `${hooks.map((h) => h.replace(/^run-parts: executing \/etc\/kernel\/postinst\.d\/(\S+).*/, '$1')).join(', ')}; ${said}`;
  });

  await step('6. Boot loader: grub.cfg default = the new kernel, nohz=off on its linux line', async (rec) => {
    const machine = new GuestMachine(guest());
    const request = { release, addArgs: options.skipBootLoaderEdit ? [] : [NOHZ_OFF] };
    rec.evidence(`/boot/grub/grub.cfg as update-grub left it:\n${await machine.readFile('/boot/grub/grub.cfg')}`);
    if (options.skipBootLoaderEdit) {
      const chosen = defaultGrub2Entry(await machine.readFile('/boot/grub/grub.cfg'));
      return `guide edit SKIPPED on request; update-grub's default: "${chosen.titlePath}" (${chosen.kernel})`;
    }
    const edited = await editBootLoader(machine, '/', request);
    if ((await editBootLoader(machine, '/', request)).edit.changed) throw new StepFailure('the boot loader edit is not idempotent');
    const cfg = await machine.readFile('/boot/grub/grub.cfg');
    const chosen = defaultGrub2Entry(cfg);
    rec.evidence(`${edited.path} after the edit (default and linux lines):\n${cfg.split('\n').filter((l) => /^\s*(set default=|menuentry|submenu|linux\s)/.test(l)).join('\n')}`);
    if (!chosen.kernel.endsWith(`vmlinuz-${release}`) || !chosen.args.includes(NOHZ_OFF)) {
      throw new StepFailure(`after the edit GRUB would boot "${chosen.titlePath}" (${chosen.kernel} ${chosen.args.join(' ')})`);
    }
    return `${edited.edit.summary}; GRUB's default: "${chosen.titlePath}" (${chosen.kernel} … ${NOHZ_OFF})`;
  });

  const autoload = debian12AutoloadFiles();
  await step(`6b. modprobe toa in the startup script (${autoload.startupScript.path}) and the cron monitor (${autoload.cronFile.path})`, async (rec) => {
    for (const file of [autoload.startupScript, autoload.cronFile]) rec.record(await guest().writeFile(file.path, file.content, file.mode));
    const shown = rec.record(await guest().check(`cat ${autoload.startupScript.path} ${autoload.cronFile.path}; systemctl is-enabled cron`));
    return `${autoload.startupScript.path}: "toa"; ${autoload.cronFile.path}: "${autoload.cronFile.content.trim()}"; cron ${shown.stdout.trim().split('\n').at(-1)}`;
  });

  let boot: BootSelection | undefined;
  let firmwareMs = 0;
  await step('7a. Reboot (systemctl reboot): firmware boots grub.cfg\'s default entry from the disk', async (rec) => {
    const firmware = async (disk: string): Promise<DirectKernelBoot> => {
      const firmwareStarted = Date.now();
      boot = await selectBootEntryFromQcow2(disk, await options.session.subdir('firmware'));
      firmwareMs = Date.now() - firmwareStarted;
      log(`firmware: ${boot.loader} ${boot.configPath} default entry "${boot.title}": ${boot.kernelPath} ${boot.commandLine}`);
      return { kernel: boot.kernelFile, ...(boot.initrdFile && { initrd: boot.initrdFile }), commandLine: boot.commandLine };
    };
    // The -toa kernel has no CONFIG_FW_CFG_SYSFS, so toa-lab-authorized-keys.service finds no key
    // on this boot and leaves root's authorized_keys as the first boot wrote it: same run key, SSH works.
    // (Its config is defconfig + kvm_guest.config + toa-lab.config; Debian 12's systemd boots on it as is.)
    const rebooted = await lab!.rebootInto(options.session, firmware);
    lab = rebooted.lab;
    run.timings.rebootMs = rebooted.evidence.durationMs;
    run.timings.bootMs = lab.bootMs;
    rec.evidence(`boot_id ${rebooted.evidence.bootIdBefore} → ${rebooted.evidence.bootIdAfter}`);
    const b = boot!;
    const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    const shutdown = rebooted.evidence.durationMs - lab.bootMs - firmwareMs;
    return `"${b.title}": ${b.kernelPath}${b.initrdPath ? ` + ${b.initrdPath}` : ''} ${b.commandLine}; ssh after ${seconds(rebooted.evidence.durationMs)} (shutdown ${seconds(shutdown)}, firmware ${seconds(firmwareMs)}, boot to ssh ${seconds(lab.bootMs)})`;
  });

  await step(`7b. uname -r carries ${extraversion}; nohz=off on the kernel command line`, async (rec) => {
    const uname = rec.record(await guest().check('uname -r'));
    const cmdline = rec.record(await guest().check('cat /proc/cmdline'));
    run.guest.unameR = uname.stdout.trim();
    run.guest.cmdline = cmdline.stdout.trim();
    if (!run.guest.unameR.endsWith(extraversion)) throw new StepFailure(`uname -r is ${run.guest.unameR}: the machine did not boot the ${extraversion} kernel`);
    if (!run.guest.cmdline.split(/\s+/).includes(NOHZ_OFF)) throw new StepFailure(`/proc/cmdline lacks ${NOHZ_OFF}: ${run.guest.cmdline}`);
    return `uname -r = ${run.guest.unameR}; /proc/cmdline has ${NOHZ_OFF}`;
  });

  await step('7c. modprobe toa; dmesg | grep TOA (loaded at boot by systemd-modules-load)', async (rec) => {
    const atBoot = rec.record(await guest().run('grep "^toa " /proc/modules'));
    rec.record(await guest().run('journalctl -b -o cat -u systemd-modules-load.service | tail -n 5'));
    if (!succeeded(atBoot)) throw new StepFailure(`toa was not loaded at boot by ${autoload.startupScript.path}`);
    const modprobe = rec.record(await guest().run('modprobe toa'));
    if (!succeeded(modprobe)) throw new StepFailure(`modprobe toa failed: ${modprobe.stderr.trim()}`);
    const where = rec.record(await guest().check('modinfo -F filename toa; modinfo -F intree toa; modinfo -F vermagic toa'));
    const dmesg = rec.record(await guest().run('dmesg | grep TOA'));
    run.guest.dmesgToa = dmesg.stdout.trim().split('\n').filter(Boolean);
    const loaded = run.guest.dmesgToa.find((l) => l.includes('TOA: toa loaded'));
    if (!loaded) throw new StepFailure('dmesg has no "TOA: toa loaded"');
    if (!new RegExp(`kinds ${toaKind}\\b`).test(loaded)) throw new StepFailure(`the module's default kind is not ${toaKind} (TCPOPT_TOA from toa.h): ${loaded}`);
    const [filename, intree] = where.stdout.trim().split('\n');
    if (!filename?.includes(`/lib/modules/${run.guest.unameR}/kernel/net/toa/`)) throw new StepFailure(`modprobe resolves toa to ${filename}, not the in-tree module`);
    return `loaded at boot by modules-load.d; modprobe toa exit 0; ${filename} (intree=${intree ?? '?'}); ${loaded.replace(/^\[\s*[\d.]+\]\s*/, '')}`;
  });

  await step('7d. The cron monitor loads toa again (rmmod, run the monitor)', async (rec) => {
    const cron = rec.record(await guest().check(`cat ${autoload.cronFile.path}; systemctl is-active cron`));
    if (!cron.stdout.includes(autoload.monitorCommand)) throw new StepFailure(`${autoload.cronFile.path} does not run ${autoload.monitorCommand}`);
    if (!/^active$/m.test(cron.stdout)) throw new StepFailure('cron is not running: the monitor would never run');
    rec.record(await guest().check('rmmod toa'));
    if (succeeded(rec.record(await guest().run('grep "^toa " /proc/modules')))) throw new StepFailure('toa is still loaded after rmmod');
    const monitor = rec.record(await guest().run(autoload.monitorCommand));
    const back = rec.record(await guest().run('grep "^toa " /proc/modules && dmesg | grep "TOA: toa" | tail -n 2'));
    if (!succeeded(monitor) || !succeeded(back)) throw new StepFailure(`the monitor (${autoload.monitorCommand}) did not load toa again`);
    return `cron runs "${autoload.cronFile.content.trim()}"; after rmmod, the monitor reloaded it`;
  });

  const backend = pythonBackend(PYTHON_PORT);
  const checks: Check[] = [];
  const trafficStarted = Date.now();
  await step(`8a. FULLNAT TOA on the -toa kernel: ${backend.label}'s own log names the injected clients`, async (rec) => {
    const [pythonStep] = renderFullOsGuide('debian-12', { toaSourceDir: '/root/toa', interfacesDVips: ['192.0.2.100'], netplanVips: ['192.0.2.101'], pythonPort: PYTHON_PORT, nginxPort: 8080 }).backends;
    const started = await runGuideStep(lab!, pythonStep!);
    for (const c of started.commands) rec.record(c);
    if (started.status !== 'passed') throw new StepFailure(`${backend.label} did not start: ${started.summary}`);
    return trafficRound(rec, await sendThroughBalancer(lab!, backend, { connections: 4, toa: {}, expect: 'simulated-clients' }));
  });

  await step('8b. toa unloaded (cron stopped, rmmod toa): the same log names the balancer', async (rec) => {
    // The monitor would load toa again within a minute, in the middle of the round.
    rec.record(await guest().check('systemctl stop cron && rmmod toa'));
    const round = await sendThroughBalancer(lab!, backend, { connections: 2, toa: {}, expect: 'balancer' });
    if (succeeded(rec.record(await guest().run('grep "^toa " /proc/modules')))) throw new StepFailure('toa was loaded again during the round');
    return trafficRound(rec, round);
  });

  await step(`8c. The FULLNAT TOA scenario (${fullnatToaV4.id}) on the -toa kernel: toa-backend's log names each injected client`, async (rec) => {
    // The scenario file every image runs, on the module modprobe finds (modinfo -n toa: the in-tree one).
    const prepared = await prepareFullOsDataPath(lab!, { toaKind });
    for (const c of prepared.step.commands) rec.record(c);
    if (!prepared.lab) throw new StepFailure(`toa-backend did not start: ${prepared.step.summary}`);
    const scenarioChecks = await fullnatToaV4.run(prepared.lab);
    for (const c of scenarioChecks) rec.evidence(`${c.passed ? 'ok' : 'NOT OK'} ${c.name}: ${c.observed}`);
    const failed = scenarioChecks.find((c) => !c.passed && !c.informational);
    if (failed) throw new StepFailure(`${failed.name}: expected ${failed.expected}, observed ${failed.observed}`);
    return `${prepared.step.summary}; ${scenarioChecks.filter((c) => !c.informational).length} checks passed`;
  });

  function trafficRound(rec: StepRecorder, round: Awaited<ReturnType<typeof sendThroughBalancer>>): string {
    checks.push(...round.checks);
    rec.evidence(`${backend.accessLog}:\n${round.log.map((r) => JSON.stringify(r)).join('\n')}`);
    for (const c of round.checks) rec.evidence(`${c.passed ? 'ok' : 'NOT OK'} ${c.name}: ${c.observed}`);
    const failed = round.checks.find((c) => !c.passed && !c.informational);
    if (failed) throw new StepFailure(`${failed.name}: expected ${failed.expected}, observed ${failed.observed}`);
    return `${round.checks.map((c) => c.observed).join('; ')}: ${[...new Set(round.log.map((r) => r.clientIp))].join(', ')}`;
  }

  const scenario: ScenarioOutcome = {
    scenario: 'fullnat-toa-debian12-python',
    title: `FULLNAT TOA through the simulated balancer to ${backend.label} on Debian 12 (${release})`,
    checks,
    durationMs: Date.now() - trafficStarted,
  };
  if (checks.length) run.guest.scenario = scenario;
  return finish();
}
