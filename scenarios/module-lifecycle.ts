import type { DataPathLab } from '../harness/lab/data-path-lab.ts';
import { kernelUnhurt, loadToaModule, moduleOnly } from '../harness/lab/toa-state.ts';
import { injectedEndpoint, runThroughBalancer } from '../harness/lab/traffic.ts';
import { check, finding, type Check, type Scenario } from '../harness/core/scenario.ts';
import { isToaModuleLoaded, removeToaModule } from '../harness/toa/toa-module.ts';

const LOADS = 3;
const CONNECTIONS = 2;
/** Outside 2..255: our toa.ko's parameter check refuses it (native/toa/toa.c, toa_check_params). */
const BAD_PARAMETER = 'toa_kinds=1';

/**
 * The module's life cycle as a user lives it: insmod, rmmod, insmod again.
 * Public TOA modules on 5.10 load whole once and then, after rmmod, come back
 * half-hooked with insmod exiting 0 (an init returning a positive value: the
 * kernel keeps the module). Each load is judged on its own evidence
 * (harness/toa/module-load.ts), and the traffic after it shows what such a
 * module does to connections.
 *
 * The bad parameter: our module checks its parameters before it registers
 * anything, so a bad one cannot leave it half-way; what is checked is that
 * the refusal is clean — nothing listed, rmmod finds nothing, the next load
 * is whole. A vendor's module has parameters of its own: skipped for it.
 */
export const moduleLifecycle: Scenario<DataPathLab> = {
  id: 'module-lifecycle',
  title: 'Module life cycle: insmod, rmmod and insmod again (three loads), and a refused bad parameter — every load whole, no oops',
  setup: 'toa.ko not loaded (whatever the previous scenario left is removed); toa-backend listening on :80',
  sends:
    `${LOADS} loads of toa.ko with \`rmmod toa\` between them, ${CONNECTIONS} HTTP requests through the FULLNAT balancer (TOA in the handshake ACK) after each; ` +
    `then, for toa-lab's own module, \`insmod toa.ko ${BAD_PARAMETER}\`, \`rmmod toa\`, a good insmod and ${CONNECTIONS} more requests`,
  passesWhen:
    'every insmod loads whole (exit 0, toa in /proc/modules, "TOA: toa loaded" in that load\'s dmesg — an insmod that exits 0 without it is "init incomplete", with the kernel\'s "suspiciously returned N" line), ' +
    'the requests after each load are logged with their injected client, every rmmod unloads, the bad parameter is refused with the module\'s own reason and leaves nothing to rmmod, and the kernel logs no fault',
  mechanism: 'toa',
  notApplicable: moduleOnly('it loads and unloads toa.ko (eBPF TOA has no module)'),
  async run(lab) {
    const since = await lab.markKernelLog();
    const checks: Check[] = [];
    if (await isToaModuleLoaded(lab.guest)) await lab.guest.check('rmmod toa');
    for (let n = 1; n <= LOADS; n++) {
      checks.push(...(await loadAndServe(lab, `load ${n} of ${LOADS}`)));
      checks.push(await unload(lab, `rmmod after load ${n}`));
    }
    if (lab.ownModule) {
      checks.push(...(await refusedParameter(lab)));
      checks.push(...(await loadAndServe(lab, 'after the refused parameter')));
    } else {
      checks.push(finding(`a bad parameter (${BAD_PARAMETER})`, true, 'toa-lab\'s own parameters', 'not tried: a vendor\'s module has parameters of its own'));
    }
    checks.push(await kernelUnhurt(lab, since));
    return checks;
  },
};

/** One insmod, judged on its own evidence, then traffic through whatever it left loaded. */
async function loadAndServe(lab: DataPathLab, label: string): Promise<Check[]> {
  const { check: loaded, load } = await loadToaModule(lab, {});
  const traffic = await runThroughBalancer(lab, { toa: { kind: lab.toaKind, placement: ['ack'] }, connections: CONNECTIONS });
  // What a half-hooked module does to connections is part of the finding, whatever it is.
  const state = load.state === 'loaded' ? 'loaded whole' : load.state === 'init-incomplete' ? 'init incomplete, module live' : load.state;
  return [
    { ...loaded, name: `${label}: ${loaded.name}` },
    traffic.allAnswered(`${label} (${state})`),
    traffic.eachConnectionSaw(`${label} (${state})`, injectedEndpoint),
  ];
}

async function unload(lab: DataPathLab, label: string): Promise<Check> {
  if (!(await isToaModuleLoaded(lab.guest))) return check(`${label}: toa unloads`, true, 'toa gone from /proc/modules', 'nothing was loaded');
  const rmmod = await removeToaModule(lab.guest);
  const gone = !(await isToaModuleLoaded(lab.guest));
  return check(
    `${label}: toa unloads`,
    rmmod.exitCode === 0 && gone,
    'rmmod exit 0 and toa gone from /proc/modules',
    `exit ${rmmod.exitCode}; ${gone ? 'gone' : 'still listed'}`,
    rmmod.stderr.trim() || undefined,
  );
}

/** A parameter the module must refuse: insmod fails, nothing stays, rmmod finds nothing, no oops. */
async function refusedParameter(lab: DataPathLab): Promise<Check[]> {
  const { load, kernelLog } = await loadToaModule(lab, {}, [BAD_PARAMETER]);
  const reason = kernelLog.split('\n').find((l) => /TOA: toa_kinds: 1 is not a usable option kind/.test(l))?.trim();
  const refused = check(
    `insmod toa.ko ${BAD_PARAMETER} is refused with the module's reason`,
    load.state === 'refused' && reason !== undefined,
    'insmod fails, toa not in /proc/modules, "toa_kinds: 1 is not a usable option kind" in dmesg',
    `${load.state}; ${reason ?? 'no reason in dmesg'}`,
    kernelLog.trim() || undefined,
  );
  const rmmod = await removeToaModule(lab.guest);
  const sysfs = await lab.guest.run('test -e /sys/module/toa');
  const listed = await isToaModuleLoaded(lab.guest);
  const clean = check(
    'rmmod toa after the refused load finds nothing and leaves nothing',
    rmmod.exitCode !== 0 && !listed && sysfs.exitCode !== 0,
    'rmmod fails (no such module); no toa in /proc/modules nor /sys/module',
    `rmmod exit ${rmmod.exitCode} (${rmmod.stderr.trim() || 'no message'}); ${listed ? 'listed' : 'not listed'}; /sys/module/toa ${sysfs.exitCode === 0 ? 'present' : 'absent'}`,
  );
  return [refused, clean];
}
