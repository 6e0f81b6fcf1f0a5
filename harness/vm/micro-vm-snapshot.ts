import { existsSync } from 'node:fs';
import { copyFile, readFile, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { cacheRoot, ensureCached, findCached } from '../cache/artifact-cache.ts';
import type { GuestShell } from '../remote/guest-shell.ts';
import { shellQuote } from '../remote/guest-shell.ts';
import { installGuestReseed, type GuestReseedTool } from './guest-reseed.ts';
import type { QemuMachineSpec } from './qemu/qemu-args.ts';
import { QmpClient } from './qemu/qmp-client.ts';

/**
 * A micro-VM saved right after "guest ready", so a cell can start from it in
 * about a second instead of booting (issue 13). QEMU 7.2 has no `file:`
 * migration, so the running guest is migrated into `exec:cat > FILE` and a new
 * QEMU, started with the same machine, takes it back with `-incoming exec:cat FILE`.
 *
 * What makes a restored guest as trustworthy as a booted one:
 * - it is saved clean, and the save checks it (cleanStateProblems): no toa.ko,
 *   no TCP socket ever opened and no packet ever received (so the kernel has not
 *   yet drawn its TCP secrets: ISN, syncookie, timestamp-offset and ehash keys
 *   are drawn on first use, after the restore's reseed), no toa-backend. Nothing
 *   the lab loads or serves is in it;
 * - each restore credits fresh host entropy and reseeds the CRNG at once, and
 *   sets the wall clock (guest-reseed.ts, native/guest-reseed);
 * - the lab wire is a new socket of the new QEMU, attached by the harness as after
 *   a boot; QEMU's post-migration announcements are off (qemu-args.ts), so the
 *   wire carries nothing a booted guest would not send;
 * - the console log of a restored guest starts with the boot console saved with
 *   the snapshot, then a line saying it was restored, so evidence read from it
 *   (oopses, warnings) covers the same boot.
 * Boot-time randomness that is drawn during boot stays shared by every restore
 * of one snapshot: KASLR offsets, the kernel's stack canary, the hash seeds of
 * boot-time tables (e.g. the IP ID counters' starting values). None of them is
 * a verdict's evidence; a cold boot (TOA_LAB_COLD_BOOT=1) draws them all anew.
 *
 * Keyed like every artefact: the image's kernel and initramfs (their cache
 * folders carry the image's recipe hash), the QEMU version, the machine options
 * that shape the saved state, and the reseed tool the snapshot carries.
 */
export interface MicroVmSnapshot {
  dir: string;
  hash: string;
  /** The migration stream. */
  stateFile: string;
  kernelRelease: string;
  savedAt: string;
  /** The serial console up to the save: a restored guest's console log starts with it. */
  bootConsole: string;
}

/** Raise when what a save puts in the guest, checks or records changes: older snapshots stop matching (2: Ip InReceives checked). */
const SNAPSHOT_FORMAT = 2;
const STATE_FILE = 'guest.state';
const MANIFEST = 'snapshot.json';

export interface SnapshotKey {
  kind: string;
  recipe: unknown;
}

export function snapshotKey(imageName: string, spec: QemuMachineSpec, qemuVersion: string, reseed: GuestReseedTool): SnapshotKey {
  if (spec.boot.kind !== 'kernel') throw new Error('only directly booted micro-VMs are saved');
  const inCache = (path: string | undefined): string | undefined => (path ? relative(cacheRoot(), path) : undefined);
  return {
    kind: `snapshots/${imageName}`,
    recipe: {
      format: SNAPSHOT_FORMAT,
      kernel: inCache(spec.boot.kernel),
      initrd: inCache(spec.boot.initrd),
      kernelCommandLine: spec.boot.kernelCommandLine,
      qemu: qemuVersion,
      accelerator: spec.accelerator,
      tcgThreading: spec.tcgThreading,
      memoryMiB: spec.memoryMiB,
      cpus: spec.cpus,
      labWireMac: spec.labWire?.mac,
      guestReseed: reseed.hash,
    },
  };
}

export async function findSnapshot(key: SnapshotKey): Promise<MicroVmSnapshot | null> {
  const cached = findCached(key.kind, key.recipe);
  return cached ? readSnapshot(cached.dir, cached.hash) : null;
}

async function readSnapshot(dir: string, hash: string): Promise<MicroVmSnapshot> {
  const manifest = JSON.parse(await readFile(join(dir, MANIFEST), 'utf8')) as { kernelRelease: string; savedAt: string };
  return {
    dir,
    hash,
    stateFile: join(dir, STATE_FILE),
    kernelRelease: manifest.kernelRelease,
    savedAt: manifest.savedAt,
    bootConsole: await readFile(join(dir, 'boot-console.log'), 'utf8'),
  };
}

/** `-incoming` for a restore: QEMU reads the stream from cat's stdout. */
export function incomingFrom(snapshot: MicroVmSnapshot): string {
  return `exec:cat ${shellQuote(snapshot.stateFile)}`;
}

export interface SaveFigures {
  snapshot: MicroVmSnapshot;
  /** QEMU's own figure: migration start to completion. */
  migrationMs: number;
  stateBytes: number;
}

/**
 * Saves the running guest into the cache (unless a snapshot with this key is
 * already there) and resumes it. The caller must reseed the resumed guest: it
 * shares its random state with the snapshot it just wrote.
 */
export async function saveRunningGuest(options: {
  key: SnapshotKey;
  qmpSocket: string;
  agent: GuestShell;
  consoleLog: string;
  kernelRelease: string;
  reseed: GuestReseedTool;
}): Promise<SaveFigures> {
  let migrationMs = 0;
  const artifact = await ensureCached(options.key.kind, options.key.recipe, async (dir) => {
    await installGuestReseed(options.agent, options.reseed);
    const clean = await cleanStateEvidence(options.agent);
    const problems = cleanStateProblems(clean);
    if (problems.length) throw new Error(`the guest is not clean enough to save: ${problems.join('; ')}`);
    const qmp = await QmpClient.connect(options.qmpSocket);
    try {
      migrationMs = await migrateToFile(qmp, join(dir, STATE_FILE));
    } finally {
      // The source goes on (it is the cell's guest); after a failed migration it never stopped.
      await qmp.execute('cont').catch(() => undefined);
      qmp.close();
    }
    await copyFile(options.consoleLog, join(dir, 'boot-console.log'));
    await writeFile(
      join(dir, MANIFEST),
      JSON.stringify({ kernelRelease: options.kernelRelease, savedAt: new Date().toISOString(), migrationMs, cleanState: clean }, null, 2),
    );
  });
  const snapshot = await readSnapshot(artifact.dir, artifact.hash);
  return { snapshot, migrationMs, stateBytes: (await stat(snapshot.stateFile)).size };
}

/**
 * Live migration into `cat`: the guest is idle (its agent waits on the serial
 * line), so the first pass nearly converges and the final stop-and-copy is short.
 * `cat` writes to a temporary name and renames it when the stream has ended:
 * QEMU reports "completed" before its end of the pipe is closed, so the file
 * is only known whole once the rename happened.
 */
async function migrateToFile(qmp: QmpClient, file: string, timeoutMs = 120_000): Promise<number> {
  const partial = `${file}.part`;
  // QEMU's default 32 MiB/s cap is for a network shared with other guests; this is a local file.
  await qmp.execute('migrate-set-parameters', { 'max-bandwidth': 8 * 1024 ** 3 });
  await qmp.execute('migrate', { uri: `exec:cat > ${shellQuote(partial)} && mv ${shellQuote(partial)} ${shellQuote(file)}` });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = (await qmp.execute('query-migrate')) as { status?: string; 'total-time'?: number; 'error-desc'?: string };
    if (info.status === 'completed' && existsSync(file)) return info['total-time'] ?? 0;
    if (info.status === 'failed' || info.status === 'cancelled') {
      throw new Error(`migration to ${file} ${info.status}${info['error-desc'] ? `: ${info['error-desc']}` : ''}`);
    }
    if (Date.now() >= deadline) throw new Error(`migration to ${file} did not finish within ${timeoutMs / 1000} s (status ${info.status})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** What the save checks, as the guest reports it (kept in the snapshot's manifest as evidence). */
export interface CleanStateEvidence {
  modules: string[];
  /** Lines of /proc/net/tcp and tcp6 beyond their headers: sockets that exist. */
  tcpSockets: number;
  /** /proc/net/snmp's Tcp ActiveOpens and PassiveOpens: connections ever made. */
  tcpActiveOpens: number;
  tcpPassiveOpens: number;
  /** /proc/net/snmp's Ip InReceives: packets that ever reached IP (a lookup of one draws the ehash secret). */
  ipInReceives: number;
  processes: string[];
}

async function cleanStateEvidence(agent: GuestShell): Promise<CleanStateEvidence> {
  const result = await agent.check(
    'cut -d" " -f1 /proc/modules; echo @@; cat /proc/net/tcp /proc/net/tcp6 2>/dev/null; echo @@; grep -E "^(Ip|Tcp):" /proc/net/snmp; echo @@; ' +
      'for p in /proc/[0-9]*; do cat $p/comm 2>/dev/null; done',
  );
  return parseCleanState(result.stdout);
}

/** Pure: the guest's answer to cleanStateEvidence's command. */
export function parseCleanState(stdout: string): CleanStateEvidence {
  const [modules = '', tcp = '', snmp = '', processes = ''] = stdout.split('@@\n');
  const lines = (text: string): string[] => text.split('\n').map((l) => l.trim()).filter(Boolean);
  // /proc/net/snmp: per protocol, a line of names then a line of values, both led by "Proto:".
  const snmpLines = lines(snmp).map((l) => l.split(/\s+/));
  const counter = (proto: string, name: string): number => {
    const [names = [], values = []] = snmpLines.filter((l) => l[0] === `${proto}:`);
    const at = names.indexOf(name);
    return at > 0 ? Number(values[at] ?? NaN) : NaN;
  };
  return {
    modules: lines(modules),
    tcpSockets: lines(tcp).filter((l) => !l.startsWith('sl ')).length,
    tcpActiveOpens: counter('Tcp', 'ActiveOpens'),
    tcpPassiveOpens: counter('Tcp', 'PassiveOpens'),
    ipInReceives: counter('Ip', 'InReceives'),
    processes: [...new Set(lines(processes))].sort(),
  };
}

/** Pure: why this guest must not be saved (empty when it may). */
export function cleanStateProblems(state: CleanStateEvidence): string[] {
  const problems: string[] = [];
  if (state.modules.some((m) => m === 'toa' || m.startsWith('toa_'))) problems.push(`a TOA module is loaded (${state.modules.join(', ')})`);
  if (state.tcpSockets > 0) problems.push(`${state.tcpSockets} TCP socket(s) exist`);
  if (!(state.tcpActiveOpens === 0 && state.tcpPassiveOpens === 0)) {
    problems.push(`TCP connections were made (ActiveOpens ${state.tcpActiveOpens}, PassiveOpens ${state.tcpPassiveOpens}): the TCP secrets are drawn`);
  }
  if (state.ipInReceives !== 0) problems.push(`packets reached the guest's IP stack (Ip InReceives ${state.ipInReceives})`);
  if (state.processes.includes('toa-backend')) problems.push('toa-backend is running');
  return problems;
}
