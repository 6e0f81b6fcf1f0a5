import { isSameProcessAlive, processStartTime } from '../../lifecycle/process-identity.ts';
import { runVirsh } from './vagrant-cli.ts';

/**
 * libvirt domains outlive the process that made them: a SIGKILLed run leaves
 * its domain defined (and its QEMU running, unless the session reaper killed
 * it through the qemu.pid the run recorded). Each toa-lab domain therefore
 * carries its owner in its libvirt description; a domain whose owner is gone
 * (same pid and start time, as harness/lifecycle/reaper.ts judges sessions)
 * is stopped and undefined with its own volumes (the per-run overlay; the
 * box's base volume is a backing file, not a disk of the domain, and stays).
 * The run's folder also records the domain name (`libvirt-domain`), for people.
 */
export const DOMAIN_PREFIX = 'toa-lab-';

export interface DomainOwner {
  toaLab: 1;
  pid: number;
  startTime: string | null;
  sessionDir: string;
}

export function currentOwner(sessionDir: string): DomainOwner {
  return { toaLab: 1, pid: process.pid, startTime: processStartTime(process.pid), sessionDir };
}

export function encodeOwner(owner: DomainOwner): string {
  return JSON.stringify(owner);
}

export function decodeOwner(description: string): DomainOwner | null {
  try {
    const parsed = JSON.parse(description.trim()) as Partial<DomainOwner>;
    if (parsed.toaLab !== 1 || typeof parsed.pid !== 'number' || typeof parsed.sessionDir !== 'string') return null;
    return { toaLab: 1, pid: parsed.pid, startTime: parsed.startTime ?? null, sessionDir: parsed.sessionDir };
  } catch {
    return null;
  }
}

export interface ReapedDomain {
  name: string;
  owner: DomainOwner;
}

/** Removes the domains of dead toa-lab runs; never touches a domain without a toa-lab owner record. */
export async function reapOrphanedDomains(log: (line: string) => void = () => {}): Promise<ReapedDomain[]> {
  const list = await runVirsh(['list', '--all', '--name'], { check: false });
  if (list.exitCode !== 0) return []; // no libvirtd: nothing of ours can be running either
  const reaped: ReapedDomain[] = [];
  for (const name of list.stdout.split('\n').map((l) => l.trim())) {
    if (!name.startsWith(DOMAIN_PREFIX)) continue;
    const description = await runVirsh(['desc', name], { check: false });
    const owner = decodeOwner(description.stdout);
    if (!owner || isSameProcessAlive(owner.pid, owner.startTime)) continue;
    log(`reaping libvirt domain ${name} of dead run ${owner.pid} (${owner.sessionDir})`);
    await removeDomain(name);
    reaped.push({ name, owner });
  }
  return reaped;
}

/** Stops (if running) and undefines a domain with its disk volumes; quiet when it is already gone. */
export async function removeDomain(name: string): Promise<void> {
  await runVirsh(['destroy', name], { check: false });
  const undefine = await runVirsh(['undefine', name, '--remove-all-storage'], { check: false });
  if (undefine.exitCode !== 0 && (await domainExists(name))) {
    throw new Error(`could not undefine libvirt domain ${name}: ${undefine.stderr.trim()}`);
  }
}

export async function domainExists(name: string): Promise<boolean> {
  return (await runVirsh(['dominfo', name], { check: false })).exitCode === 0;
}
