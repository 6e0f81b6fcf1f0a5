import { join } from 'node:path';
import { succeeded } from '../exec/command-result.ts';
import { repoRoot } from '../repo-root.ts';
import { runStep, StepFailure, StepSkipped, type StepKind, type StepResult } from '../core/step.ts';
import { detectOs, parseReleaseFiles, RELEASE_FILES_COMMAND, type DetectedOs } from '../os/detect-os.ts';
import type { StepId } from '../os/index.ts';
import { firstErrors, recogniseFailures } from '../toa/failure-signatures.ts';
import { NO_KERNEL_DEVEL_EXIT, type GuideStep } from '../toa/install-guide-steps.ts';
import type { GuestLab, RebootableGuestLab } from '../machine/machine.ts';
import { stepCommand, stepTraceEnabled, untraced } from './step-trace.ts';

/**
 * The guides' procedure on a full-OS guest, one reported step each (duration,
 * every command with its output, a one-line summary). Steps only pass on what
 * the guest itself shows: dpkg's record, the file make left, dmesg, /proc/modules,
 * `ip addr` after a reboot.
 */
const GUEST_STEP_DIR = '/var/lib/toa-lab/steps';

/** The guide's step ids as the step kinds verdicts branch on. */
const GUIDE_STEP_KIND: Record<StepId, StepKind> = {
  // Where the toolchain's packages come from: the image's side of the verdict, like the toolchain.
  repositories: 'toolchain',
  toolchain: 'toolchain',
  'toa-build': 'build',
  'toa-load': 'load',
  autoload: 'autoload',
  vip: 'vip',
  backend: 'backend',
};

/** The Huawei guide's words for an image whose repositories lack the running kernel's devel package. */
export const NO_KERNEL_DEVEL_ADVICE = 'contact the image provider (the guide: the kernel development package must match the running kernel)';

/** Runs one rendered guide step: the script is written into the guest (kept as evidence) and run as root. */
export function runGuideStep(lab: GuestLab, step: GuideStep): Promise<StepResult> {
  return runStep(step.name, async (recorder) => {
    // Named by time: a procedure may run the same kind of step twice (two VIP methods, two backends).
    const path = `${GUEST_STEP_DIR}/${Date.now()}-${step.id}.sh`;
    recorder.record(await lab.guest.writeFile(path, step.script, 0o755));
    const ran = recorder.record(await lab.guest.run(stepCommand(step.interpreter, path, stepTraceEnabled()), { timeoutMs: step.timeoutMs }));
    // The recorded command keeps the trace (the evidence of where the time went); the verdict reads the script's own words.
    const result = { ...ran, stderr: untraced(ran.stderr) };
    if (result.timedOut) throw new StepFailure(`${step.id}: still running after ${step.timeoutMs / 1000} s`);
    if (result.exitCode === NO_KERNEL_DEVEL_EXIT) {
      // The package manager's own words on the miss are the evidence; the advice is the Huawei guide's.
      recorder.evidence(result.stderr.trim());
      throw new StepFailure(`${lastToaLabLine(result.stderr) ?? 'no kernel development package'}: ${NO_KERNEL_DEVEL_ADVICE}`);
    }
    if (!succeeded(result)) {
      // A compiler or loader error with a known cause (old gcc, proc_ops, kallsyms...) says so, with the remedy.
      const output = `${result.stdout}\n${result.stderr}`;
      const known = recogniseFailures(output).map((r) => ` — ${r.signature.explanation}; ${r.signature.remedy}`);
      if (known.length) recorder.evidence(firstErrors(output).join('\n'));
      throw new StepFailure(`${step.id}: exit ${result.exitCode}: ${lastToaLabLine(result.stderr) ?? lastLine(result.stderr || result.stdout)}${known.join('')}`);
    }
    return lastToaLabLine(result.stdout) ?? lastLine(result.stdout) ?? 'done';
  }, GUIDE_STEP_KIND[step.id]);
}

/**
 * The guide's "download the module source": pushed over SFTP — toa-lab's
 * native/toa, or the folder of a vendor's module the harness fetched.
 */
export function pushToaSource(lab: GuestLab, remoteDir: string, source?: { dir: string; label: string }): Promise<StepResult> {
  const local = source?.dir ?? join(repoRoot(), 'native', 'toa');
  const label = source?.label ?? 'native/toa';
  return runStep(`push ${label} to ${remoteDir}`, async (recorder) => {
    // Build products a developer may have left in the checkout would be stale for this kernel.
    const result = recorder.record(await lab.guest.putDirectory(local, remoteDir, (path) => !isBuildOutput(path)));
    if (!succeeded(result)) throw new StepFailure(`copying ${label} failed: ${result.stderr}`);
    recorder.record(await lab.guest.check(`ls ${remoteDir}`));
    return result.stdout.trim();
  }, 'push');
}

/**
 * The lab runs two VIP methods on one machine (the Debian row's interfaces.d
 * and the Ubuntu row's netplan), which no guide does: netplan hands lo to
 * systemd-networkd, and Debian 13's networkd (systemd 257) drops addresses it did not
 * configure when it takes lo over at boot — ifupdown's lo:1, lo:2 vanish after
 * the reboot (measured; Debian 11/12 keep them). `KeepConfiguration=static`
 * in a drop-in for netplan's generated lo unit keeps permanent addresses it
 * finds, so each method's VIPs stay evidence of that method alone. The guides'
 * own files are not touched.
 */
export const NETPLAN_LO_DROP_IN = '/etc/systemd/network/10-netplan-lo.network.d/toa-lab-coexist.conf';

export function letVipMethodsCoexist(lab: GuestLab): Promise<StepResult> {
  return runStep('lab: netplan\'s lo keeps the interfaces.d VIPs (networkd KeepConfiguration=static)', async (recorder) => {
    recorder.record(await lab.guest.check(`mkdir -p ${NETPLAN_LO_DROP_IN.slice(0, NETPLAN_LO_DROP_IN.lastIndexOf('/'))}`));
    recorder.record(await lab.guest.writeFile(NETPLAN_LO_DROP_IN, '[Network]\nKeepConfiguration=static\n', 0o644));
    return NETPLAN_LO_DROP_IN;
  }, 'lab');
}

/** Where cloud-init keeps a first boot's user scripts (the seed's x-shellscript part, by its file name). */
const CLOUD_INIT_USER_SCRIPT = '/var/lib/cloud/instance/scripts/user-data.sh';

/**
 * The UCloud guide's UserData form: cloud-init ran the row's VIP script at first boot
 * (the seed carried it); the harness configures nothing and only checks. Evidence: the
 * script as cloud-init stored and ran it (its modules' log line for scripts-user) and
 * the addresses on lo; `verify` is the VIP step's own check.
 */
export function vipFromUserDataStep(lab: GuestLab, step: GuideStep, method: string): Promise<StepResult> {
  return runStep(`VIP on lo from the UserData cloud-init ran at first boot (${method})`, async (recorder) => {
    const stored = recorder.record(await lab.guest.run(`cat ${CLOUD_INIT_USER_SCRIPT}`));
    if (stored.exitCode !== 0) throw new StepFailure(`cloud-init ran no UserData script: ${CLOUD_INIT_USER_SCRIPT} is missing (${lastLine(stored.stderr) ?? `exit ${stored.exitCode}`})`);
    recorder.record(await lab.guest.run("grep -h -E 'scripts-user|user-data.sh' /var/log/cloud-init.log | tail -5"));
    const path = `${GUEST_STEP_DIR}/${Date.now()}-vip-verify.sh`;
    recorder.record(await lab.guest.writeFile(path, step.verify ?? '', 0o755));
    const result = recorder.record(await lab.guest.run(`/bin/sh ${path}`, { timeoutMs: step.timeoutMs }));
    if (!succeeded(result)) throw new StepFailure(`the UserData did not leave the VIPs on lo: ${lastToaLabLine(result.stderr) ?? lastLine(result.stderr || result.stdout)}`);
    return lastToaLabLine(result.stdout) ?? 'VIPs on lo';
  }, 'vip');
}

/** Reboots and says how long it took; the boot ids are the evidence it really happened. */
export function rebootStep(lab: RebootableGuestLab): Promise<StepResult> {
  return runStep('reboot (systemctl reboot)', async (recorder) => {
    const evidence = await lab.reboot();
    recorder.evidence(`boot_id ${evidence.bootIdBefore} → ${evidence.bootIdAfter}`);
    // Where the boot's time went, in systemd's own words (kernel, initrd, userspace), where it runs systemd.
    const analyzed = recorder.record(await lab.guest.run('command -v systemd-analyze >/dev/null && systemd-analyze time', { timeoutMs: 30_000 }));
    const finished = succeeded(analyzed) ? analyzed.stdout.split('\n').find((line) => line.startsWith('Startup finished')) : undefined;
    return `back with a working ssh login in ${(evidence.durationMs / 1000).toFixed(1)} s${finished ? ` (${finished.trim()})` : ''}`;
  }, 'reboot');
}

/** After the reboot: toa loaded again by the system itself (/proc/modules, dmesg) — not by the harness. */
export function verifyModuleAutoloaded(lab: GuestLab): Promise<StepResult> {
  return runStep('after reboot: toa loaded at boot (/proc/modules, dmesg)', async (recorder) => {
    const modules = recorder.record(await lab.guest.run('grep "^toa " /proc/modules'));
    const dmesg = recorder.record(await lab.guest.run('dmesg | grep TOA'));
    if (!succeeded(modules)) throw new StepFailure('toa is not in /proc/modules after the reboot');
    if (!/TOA: toa loaded/.test(dmesg.stdout)) throw new StepFailure(`no "TOA: toa loaded" in dmesg after the reboot`);
    return modules.stdout.trim();
  }, 'after-reboot');
}

/** After the reboot: every VIP is on lo again, configured by the system at boot. */
export function verifyVipsPresent(lab: GuestLab, vips: readonly string[]): Promise<StepResult> {
  return runStep(`after reboot: VIPs ${vips.join(', ')} on lo (ip addr show lo)`, async (recorder) => {
    const result = recorder.record(await lab.guest.check('ip -4 -o addr show dev lo'));
    const present = new Set([...result.stdout.matchAll(/inet (\d+\.\d+\.\d+\.\d+)\/32/g)].map((m) => m[1]));
    const missing = vips.filter((vip) => !present.has(vip));
    if (missing.length > 0) throw new StepFailure(`missing on lo after the reboot: ${missing.join(', ')}`);
    return `${vips.length} VIP(s) on lo`;
  }, 'after-reboot');
}

/**
 * A first boot through cloud-init: its own verdict, in its own words. Errors it
 * reports are evidence but not fatal when the login works (a datasource warning
 * on a seed-only boot is common); a cloud-init that never finishes fails here,
 * bounded. An image reached with the user's own login may have no cloud-init at all.
 */
export function cloudInitStep(lab: GuestLab, timeoutMs = 600_000): Promise<StepResult> {
  return runStep('provision: cloud-init finished (cloud-init status --wait --long)', async (recorder) => {
    const present = recorder.record(await lab.guest.run('command -v cloud-init'));
    if (present.exitCode !== 0) throw new StepSkipped('no cloud-init in the image (reached with the configured login)');
    // `--wait` prints a dot per poll with no newline before the status (cloud-init 25 on Debian 13:
    // "....status: done"), so wait quietly and then ask once.
    const status = recorder.record(await lab.guest.run('cloud-init status --wait >/dev/null 2>&1; cloud-init status --long', { timeoutMs }));
    if (status.timedOut) throw new StepFailure(`cloud-init did not finish within ${timeoutMs / 1000} s`);
    const text = status.stdout.trim();
    const state = /^status:\s*(\S+)/m.exec(text)?.[1] ?? 'unknown';
    if (state === 'done') return `cloud-init done (${lastLine(text)})`;
    const errors = recorder.record(await lab.guest.run('cloud-init analyze show 2>/dev/null | tail -5; grep -h -E "WARNING|ERROR|Traceback" /var/log/cloud-init.log | tail -5'));
    recorder.evidence(errors.stdout);
    const tail = text.split('\n').slice(-3).join(' | ');
    // "error" (cloud-init 22.4 also exits 1) with a working login: the cell goes on, the report keeps its words.
    if (state === 'error' || state === 'degraded') return `cloud-init finished with errors of its own (status: ${state}): ${tail}`;
    throw new StepFailure(`cloud-init ended in state '${state}': ${tail}`);
  }, 'provision');
}

/** The guide row this image is, from what the guest says (/etc/os-release …); `profile` overrides. */
export async function detectOsStep(lab: GuestLab, override?: string): Promise<{ step: StepResult; os?: DetectedOs }> {
  let os: DetectedOs | undefined;
  const step = await runStep('detect the OS (/etc/os-release, /etc/redhat-release, /etc/SuSE-release)', async (recorder) => {
    const files = parseReleaseFiles(recorder.record(await lab.guest.check(RELEASE_FILES_COMMAND)).stdout);
    if (override) {
      const said = files.osRelease ? describeOrUnknown(files) : 'an OS without os-release';
      os = { profileId: override, match: 'row', description: `${said} (--profile ${override})` };
    } else {
      os = detectOs(files);
    }
    return `${os.description}: the guide's row ${os.profileId}${os.match === 'family' ? " (no row of its own: its family's)" : ''}`;
  }, 'detect-os');
  return os ? { step, os } : { step };
}

function describeOrUnknown(files: Parameters<typeof detectOs>[0]): string {
  try {
    return detectOs(files).description;
  } catch {
    return 'an OS with no guide row';
  }
}

function lastToaLabLine(text: string): string | undefined {
  return text.split('\n').filter((l) => l.startsWith('toa-lab: ')).at(-1)?.slice('toa-lab: '.length);
}

function lastLine(text: string): string | undefined {
  return text.trim().split('\n').at(-1);
}

/** Build products and the host-side test helpers (native/toa/tests) are not part of the guide's source. */
function isBuildOutput(path: string): boolean {
  const name = path.slice(path.lastIndexOf('/') + 1);
  return /\.(o|ko|mod|mod\.c|cmd|order|symvers)$/.test(name) || name.startsWith('.') || name === 'tests';
}
