import type { CommandResult } from '../exec/command-result.ts';
import { check, type Check, type CheckKind } from '../core/scenario.ts';
import { recogniseFailures } from '../toa/failure-signatures.ts';
import { classifyModuleLoad, type ModuleLoadResult } from '../toa/module-load.ts';
import {
  insertToaModule,
  isToaModuleLoaded,
  removeToaModule,
  toaKernelMessages,
  type ToaModuleParams,
} from '../toa/toa-module.ts';
import { attachedToaPrograms, attachmentComplete, attachToaBpf, detachToaBpf } from '../toa/toa-bpf.ts';
import type { GuestToaBpf } from '../toa/toa-bpf-overlay.ts';
import type { DataPathLab, KernelLogMark } from './data-path-lab.ts';
import { DEFAULT_TOA_KIND } from '../net/index.ts';

/**
 * Puts toa.ko in the state a scenario needs (loaded with these parameters, or
 * not loaded) whatever the previous scenario left, and returns the guest's
 * evidence that it is so.
 */
export async function withToaModule(lab: DataPathLab, params: ToaModuleParams): Promise<Check> {
  // eBPF TOA has no module parameters (kinds, trusted sources): its lab reports ownModule false.
  if (lab.toaBpf) return withToaBpf(lab, lab.toaBpf);
  if (await isToaModuleLoaded(lab.guest)) await lab.guest.check('rmmod toa');
  // A vendor's module has its own parameters (if any): it is loaded as the guide says, bare.
  return (await loadToaModule(lab, lab.ownModule ? withDeclaredKinds(lab, params) : {})).check;
}

/**
 * One `insmod` of the module under test, as it is (no rmmod first), and the
 * guest's evidence of what it did: a `module-load` check when it loaded or was
 * refused, a `module-init-incomplete` one when the kernel kept a module whose
 * init never finished (harness/toa/module-load.ts).
 */
export async function loadToaModule(
  lab: DataPathLab,
  params: ToaModuleParams,
  extraArguments: readonly string[] = [],
): Promise<{ check: Check; load: ModuleLoadResult; kernelLog: string }> {
  await lab.guest.check('dmesg -c >/dev/null'); // so the lines we look at are this load's
  const insmod: CommandResult = await insertToaModule(lab.guest, lab.toaModulePath, params, extraArguments);
  const kernelLog = (await lab.guest.run('dmesg')).stdout;
  const messages = await toaKernelMessages(lab.guest);
  const loadedLine = messages.find((m) => /TOA: toa loaded/i.test(m));
  const listed = await isToaModuleLoaded(lab.guest);
  const load = classifyModuleLoad({ insmodExitCode: insmod.exitCode ?? -1, listed, loadedLine: loadedLine !== undefined, kernelLog });
  const command = [`$ ${insmod.command}`, insmod.stdout, insmod.stderr].filter(Boolean).join('\n');
  if (load.state === 'init-incomplete') {
    const initstate = (await lab.guest.run('cat /sys/module/toa/initstate')).stdout.trim();
    const kernelSaid = load.positiveReturn ? `the kernel: "${load.positiveReturn.line}"` : 'the kernel said nothing about its init';
    return {
      check: withKind('module-init-incomplete', check(
        'toa.ko loads (dmesg | grep TOA)',
        false,
        '"TOA: toa loaded" in dmesg',
        `init incomplete: insmod exit 0 and toa stays loaded (/proc/modules, initstate ${initstate || '?'}), ` +
          `but no "toa loaded" line — ${kernelSaid}; its last words: ${messages.at(-1)?.trim() ?? 'none'}`,
        [command, ...initLines(kernelLog)].join('\n'),
      ), load.positiveReturn?.line ?? messages.at(-1)?.trim()),
      load,
      kernelLog,
    };
  }
  const loaded = load.state === 'loaded';
  const dmesg = loaded ? '' : (await lab.guest.run('dmesg | tail -20')).stdout;
  const recognised = recogniseFailures(`${insmod.stderr}\n${dmesg}`);
  // The words behind a refusal: the line a known cause matched, else the kernel's first line about this insmod, else insmod's.
  const said = loaded ? undefined : (recognised[0]?.line ?? firstLine(kernelLog) ?? firstLine(insmod.stderr));
  return {
    check: withKind('module-load', check(
      'toa.ko loads (dmesg | grep TOA)',
      loaded,
      '"TOA: toa loaded" in dmesg',
      loaded
        ? loadedLine!.trim()
        : `insmod exit ${insmod.exitCode}: ${insmod.stderr.trim()}${load.state === 'already-loaded' ? ' (a copy was still loaded)' : ''}` +
            recognised.map((r) => ` — ${r.signature.explanation}; ${r.signature.remedy}`).join(''),
      [command, ...messages, dmesg].filter(Boolean).join('\n'),
    ), said),
    load,
    kernelLog,
  };
}

/**
 * The lines of an insmod's kernel log a reader needs: everything before the
 * kernel's stack dump (the module's own lines, the kernel's warning and its
 * "loading module anyway"), not the registers after it.
 */
function initLines(kernelLog: string): string[] {
  const lines = kernelLog.split('\n').filter(Boolean);
  const dump = lines.findIndex((l) => /\bCPU: \d+ PID: \d+ Comm:/.test(l));
  return (dump < 0 ? lines : lines.slice(0, dump)).slice(-20);
}

/**
 * Our module accepts what the module spec declares unless a scenario sets its own kinds. A bare
 * insmod (as the guides do) when the declaration is the module's own default, 254 only.
 */
function withDeclaredKinds(lab: DataPathLab, params: ToaModuleParams): ToaModuleParams {
  if (params.kinds || (lab.moduleKinds.length === 1 && lab.moduleKinds[0] === DEFAULT_TOA_KIND)) return params;
  return { ...params, kinds: lab.moduleKinds };
}

export async function withoutToaModule(lab: DataPathLab): Promise<Check> {
  if (lab.toaBpf) return withoutToaBpf(lab, lab.toaBpf);
  if (await isToaModuleLoaded(lab.guest)) await removeToaModule(lab.guest);
  const loaded = await isToaModuleLoaded(lab.guest);
  return check('toa.ko is not loaded', !loaded, 'no "toa" in /proc/modules', loaded ? 'still loaded' : 'not loaded');
}

/**
 * eBPF TOA's "loaded": the object's programs attached to the backend's cgroup,
 * as the kernel lists them (BPF_PROG_QUERY) after the loader ran. A verifier
 * refusal is the loader's stderr, shown as the evidence.
 */
async function withToaBpf(lab: DataPathLab, bpf: GuestToaBpf): Promise<Check> {
  const attach = await attachToaBpf(lab.guest, bpf);
  const programs = await attachedToaPrograms(lab.guest, bpf);
  const attached = attach.exitCode === 0 && attachmentComplete(programs);
  return withKind('module-load', check(
    `eBPF TOA attaches (${bpf.origin})`,
    attached,
    'sockops and getpeername programs on the backend\'s cgroup',
    attached
      ? programs.map((p) => `${p.hook}: ${p.name} (id ${p.id})`).join(', ')
      : `toa-bpf-load exit ${attach.exitCode}: ${lastLines(attach.stderr, 3) || 'programs missing'}`,
    [`$ ${attach.command}`, attach.stdout, attach.stderr].filter(Boolean).join('\n'),
  ));
}

async function withoutToaBpf(lab: DataPathLab, bpf: GuestToaBpf): Promise<Check> {
  await detachToaBpf(lab.guest, bpf);
  const left = await attachedToaPrograms(lab.guest, bpf);
  return check('eBPF TOA is detached', left.length === 0, "no programs on the backend's cgroup", left.length === 0 ? 'none' : left.map((p) => p.hook).join(', '));
}

function lastLines(text: string, count: number): string {
  return text.trim().split('\n').slice(-count).join(' / ');
}

/** The kernel's state after a scenario: no oops, BUG, WARN or panic anywhere in its logs. */
export async function kernelUnhurt(lab: DataPathLab, since: KernelLogMark): Promise<Check> {
  const faults = await lab.kernelFaultsSince(since);
  return withKind('kernel-faults', check(
    'kernel unhurt (no oops/BUG/WARN in console or dmesg)',
    faults.length === 0,
    'no fault lines',
    faults.length === 0 ? 'none' : `${faults.length}: ${faults[0]!.line}`,
    faults.map((f) => `[${f.kind}] ${f.line}`).join('\n') || undefined,
  ), faults[0]?.line);
}

function withKind(kind: CheckKind, verdict: Check, said?: string): Check {
  return said ? { ...verdict, kind, said } : { ...verdict, kind };
}

/** The first line with something on it, without dmesg's timestamp. */
function firstLine(text: string): string | undefined {
  return text
    .split('\n')
    .map((l) => l.replace(/^\[\s*[\d.]+\]\s*/, '').trim())
    .find(Boolean);
}

/**
 * For scenarios about the kernel module itself (rmmod, its life cycle): eBPF
 * TOA has no module to unload, so they say so as a typed skip, never a failure.
 */
export function moduleOnly(what: string): (lab: DataPathLab) => string | undefined {
  return (lab) => (lab.toaBpf ? `not applicable to eBPF TOA: ${what}` : undefined);
}
