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
import type { DataPathLab, KernelLogMark } from './data-path-lab.ts';
import { DEFAULT_TOA_KIND } from '../net/index.ts';

/**
 * Puts toa.ko in the state a scenario needs (loaded with these parameters, or
 * not loaded) whatever the previous scenario left, and returns the guest's
 * evidence that it is so.
 */
export async function withToaModule(lab: DataPathLab, params: ToaModuleParams): Promise<Check> {
  if (await isToaModuleLoaded(lab.guest)) await lab.guest.check('rmmod toa');
  await lab.guest.check('dmesg -c >/dev/null'); // so the loaded line we look for is this load's
  // A vendor's module has its own parameters (if any): it is loaded as the guide says, bare.
  const insmod: CommandResult = await insertToaModule(lab.guest, lab.toaModulePath, lab.ownModule ? withDeclaredKinds(lab, params) : {});
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

/**
 * Our module accepts what the module spec declares unless a scenario sets its own kinds. A bare
 * insmod (as the guides do) when the declaration is the module's own default, 254 only.
 */
function withDeclaredKinds(lab: DataPathLab, params: ToaModuleParams): ToaModuleParams {
  if (params.kinds || (lab.moduleKinds.length === 1 && lab.moduleKinds[0] === DEFAULT_TOA_KIND)) return params;
  return { ...params, kinds: lab.moduleKinds };
}

export async function withoutToaModule(lab: DataPathLab): Promise<Check> {
  if (await isToaModuleLoaded(lab.guest)) await removeToaModule(lab.guest);
  const loaded = await isToaModuleLoaded(lab.guest);
  return check('toa.ko is not loaded', !loaded, 'no "toa" in /proc/modules', loaded ? 'still loaded' : 'not loaded');
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
