import type { CommandResult } from '../exec/command-result.ts';
import { check, type Check, type CheckKind } from '../core/scenario.ts';
import { recogniseFailures } from '../toa/failure-signatures.ts';
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

/**
 * Puts toa.ko in the state a scenario needs (loaded with these parameters, or
 * not loaded) whatever the previous scenario left, and returns the guest's
 * evidence that it is so.
 */
export async function withToaModule(lab: DataPathLab, params: ToaModuleParams): Promise<Check> {
  // eBPF TOA has no module parameters (kinds, trusted sources): its lab reports ownModule false.
  if (lab.toaBpf) return withToaBpf(lab, lab.toaBpf);
  if (await isToaModuleLoaded(lab.guest)) await lab.guest.check('rmmod toa');
  await lab.guest.check('dmesg -c >/dev/null'); // so the loaded line we look for is this load's
  // A vendor's module has its own parameters (if any): it is loaded as the guide says, bare.
  const insmod: CommandResult = await insertToaModule(lab.guest, lab.toaModulePath, lab.ownModule ? params : {});
  const messages = await toaKernelMessages(lab.guest);
  const loaded = insmod.exitCode === 0 && messages.some((m) => /TOA: toa loaded/i.test(m));
  const dmesg = loaded ? '' : (await lab.guest.run('dmesg | tail -20')).stdout;
  const recognised = recogniseFailures(`${insmod.stderr}\n${dmesg}`);
  return withKind('module-load', check(
    'toa.ko loads (dmesg | grep TOA)',
    loaded,
    '"TOA: toa loaded" in dmesg',
    loaded
      ? messages.find((m) => /toa loaded/i.test(m))!.trim()
      : `insmod exit ${insmod.exitCode}: ${insmod.stderr.trim()}${recognised.map((r) => ` — ${r.signature.explanation}; ${r.signature.remedy}`).join('')}`,
    [`$ ${insmod.command}`, insmod.stdout, insmod.stderr, ...messages, dmesg].filter(Boolean).join('\n'),
  ));
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
  ));
}

function withKind(kind: CheckKind, verdict: Check): Check {
  return { ...verdict, kind };
}

/**
 * For scenarios about the kernel module itself (rmmod, its life cycle): eBPF
 * TOA has no module to unload, so they say so as a typed skip, never a failure.
 */
export function moduleOnly(what: string): (lab: DataPathLab) => string | undefined {
  return (lab) => (lab.toaBpf ? `not applicable to eBPF TOA: ${what}` : undefined);
}
