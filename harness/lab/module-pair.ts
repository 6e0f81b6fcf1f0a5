import { check, finding, type Check } from '../core/scenario.ts';
import { shellQuote } from '../remote/guest-shell.ts';
import { classifyModuleLoad, type ModuleLoadState } from '../toa/module-load.ts';
import type { DataPathLab } from './data-path-lab.ts';
import { kernelUnhurt } from './toa-state.ts';
import { injectedEndpoint, runThroughBalancer } from './traffic.ts';

/** A TOA module in the guest: its module name (as /proc/modules lists it) and its .ko there. */
export interface GuestModule {
  name: string;
  path: string;
}

/**
 * Two TOA modules loaded at once (a vendor's beside ours, or two builds of
 * ours under different names), loaded in one order and unloaded in the same
 * order, so that both orders of each are covered by calling this twice with
 * the pair swapped. Reported: how each insmod ended, which module rewrote the
 * address while both were loaded (their getname counters: /proc/net/toa_stats of
 * the first, toa_stats_<module> of the second — native/toa/toa.c), what
 * the backend saw after the first rmmod, and that nothing oopsed.
 */
export async function twoModulesAtOnce(lab: DataPathLab, first: GuestModule, second: GuestModule): Promise<Check[]> {
  const label = `${first.name} then ${second.name}`;
  for (const m of [first, second]) if (await listed(lab, m)) await lab.guest.check(`rmmod ${m.name}`);
  const since = await lab.markKernelLog();
  const checks: Check[] = [];
  const loads: ModuleLoadState[] = [];
  for (const m of [first, second]) {
    await lab.guest.check('dmesg -c >/dev/null');
    const insmod = await lab.guest.run(`insmod ${shellQuote(m.path)}`);
    const kernelLog = (await lab.guest.run('dmesg')).stdout;
    const load = classifyModuleLoad({
      insmodExitCode: insmod.exitCode ?? -1,
      listed: await listed(lab, m),
      loadedLine: /TOA: toa loaded/.test(kernelLog),
      kernelLog,
    });
    loads.push(load.state);
    checks.push(
      check(
        `${label}: insmod ${m.name} loads whole`,
        load.state === 'loaded',
        `exit 0, ${m.name} in /proc/modules, "TOA: toa loaded" in its dmesg`,
        `${load.state} (insmod exit ${insmod.exitCode}${insmod.stderr.trim() ? `: ${insmod.stderr.trim()}` : ''})`,
        kernelLog.trim() || undefined,
      ),
    );
  }
  const before = await getnameCounters(lab);
  const both = await runThroughBalancer(lab, { toa: { kind: lab.toaKind, placement: ['ack'] }, connections: 2 });
  const after = await getnameCounters(lab);
  checks.push(both.eachConnectionSaw(`${label}, both loaded`, injectedEndpoint));
  checks.push(
    finding(
      `${label}: which module answered getpeername()`,
      true,
      'the getname_toa_ok counters of each /proc/net/toa_stats*',
      answered(before, after) || 'no counter moved',
      after.map((c) => `${c.file}: getname_toa_ok ${c.ok}`).join('\n') || undefined,
    ),
  );
  const rmmodFirst = await lab.guest.run(`rmmod ${first.name}`);
  checks.push(
    check(
      `${label}: rmmod ${first.name} with ${second.name} still loaded`,
      rmmodFirst.exitCode === 0 && !(await listed(lab, first)),
      'exit 0, gone',
      `exit ${rmmodFirst.exitCode} ${rmmodFirst.stderr.trim()}`.trim(),
    ),
  );
  if (loads[1] === 'loaded') {
    const alone = await runThroughBalancer(lab, { toa: { kind: lab.toaKind, placement: ['ack'] }, connections: 2 });
    checks.push(alone.eachConnectionSaw(`${label}, ${second.name} alone after rmmod ${first.name}`, injectedEndpoint));
  }
  if (await listed(lab, second)) {
    const rmmodSecond = await lab.guest.run(`rmmod ${second.name}`);
    checks.push(
      check(`${label}: rmmod ${second.name}`, rmmodSecond.exitCode === 0 && !(await listed(lab, second)), 'exit 0, gone', `exit ${rmmodSecond.exitCode}`),
    );
  }
  checks.push(await kernelUnhurt(lab, since));
  return checks;
}

async function listed(lab: DataPathLab, m: GuestModule): Promise<boolean> {
  return (await lab.guest.run(`grep -q ${shellQuote(`^${m.name} `)} /proc/modules`)).exitCode === 0;
}

interface GetnameCounter {
  file: string;
  ok: number;
}

/** getname_toa_ok of every TOA stats file in /proc/net (toa_stats, and toa_stats_<module> of a module that found it taken). */
async function getnameCounters(lab: DataPathLab): Promise<GetnameCounter[]> {
  const out = (await lab.guest.run('for f in /proc/net/toa_stats*; do [ -e "$f" ] && echo "$f $(awk \'$1 == "getname_toa_ok" { print $2 }\' "$f")"; done')).stdout;
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((w) => w.length === 2)
    .map(([file, ok]) => ({ file: file!, ok: Number(ok) }));
}

function answered(before: readonly GetnameCounter[], after: readonly GetnameCounter[]): string {
  return after
    .map((a) => ({ file: a.file, delta: a.ok - (before.find((b) => b.file === a.file)?.ok ?? 0) }))
    .filter((d) => d.delta > 0)
    .map((d) => `${d.file} +${d.delta}`)
    .join(', ');
}
