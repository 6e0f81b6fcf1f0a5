import { backendPatternBytes, fnv1a64 } from '../client/fnv1a.ts';
import { httpRequest } from '../client/http-client.ts';
import type { KernelFault } from '../checks/kernel-faults.ts';
import { shellQuote } from '../remote/guest-shell.ts';
import { isToaModuleLoaded } from '../toa/toa-module.ts';
import type { DataPathLab } from './data-path-lab.ts';
import { guestGone } from './guest-health.ts';

/**
 * `rmmod toa; insmod toa.ko` over and over in the guest while downloads keep
 * streaming through the FULLNAT balancer: every unload and load registers or
 * drops netfilter hooks, tracepoint probes and kretprobes on a hot receive
 * path. The guest either gets through every round (each round is one guest
 * command, bounded) or it stops answering, and the serial console says why
 * (a livelock shows as soft lockups). rmmod-under-load does this once; this
 * does it many times, for a test that has to catch a rare hang and for the
 * TCG threading benchmark.
 */
export interface UnloadCyclesOptions {
  rounds: number;
  /** rmmod + insmod pairs per round, in one guest command. */
  cyclesPerRound: number;
  /** Downloads kept in flight throughout. */
  downloads: number;
  /** Bound on one round; a round that takes longer counts as a hang. */
  roundTimeoutMs: number;
  /** Told after every round, so a run cut short by an outer timeout still shows how far it got. */
  onRound?: (round: number, seconds: number, downloadsSoFar: number) => void;
}

export interface UnloadCyclesResult {
  /** Rounds whose command exited 0 before the first one that did not. */
  roundsCompleted: number;
  /** How the first failing round ended (exit code, timeout, lost guest), or null. */
  failure: string | null;
  roundSeconds: number[];
  downloadsCompleted: number;
  /** Downloads that did not complete, or came back different from what the backend sends. */
  downloadsFailed: number;
  /** Why, for the first few of them. */
  downloadErrors: string[];
  /** Kernel faults (console and dmesg) since the cycles began. */
  faults: KernelFault[];
  /** toa.ko is loaded at the end (the last insmod took). */
  loadedAtEnd: boolean;
}

const DOWNLOAD_BYTES = 1024 * 1024;
/** As rmmod-under-load's: under TCG one connection can sit in retransmission backoff for a minute. */
const DOWNLOAD_TIMEOUT_MS = 180_000;

/**
 * The longest cycleToaUnderTraffic can take with these options before it
 * answers on its own: the wait for the first download, every round at its
 * bound, then the downloads' drain. A caller's own timeout should be above it,
 * so a slow guest fails with the round that hung, not with the caller's timer.
 */
export function unloadCyclesBoundMs(options: Pick<UnloadCyclesOptions, 'rounds' | 'roundTimeoutMs'>): number {
  return FIRST_DOWNLOAD_WAIT_MS + options.rounds * options.roundTimeoutMs + DOWNLOAD_TIMEOUT_MS;
}

const FIRST_DOWNLOAD_WAIT_MS = 30_000;

export async function cycleToaUnderTraffic(lab: DataPathLab, options: UnloadCyclesOptions): Promise<UnloadCyclesResult> {
  if (!(await isToaModuleLoaded(lab.guest))) await lab.guest.check(`insmod ${shellQuote(lab.toaModulePath)}`);
  const since = await lab.markKernelLog();
  const balancer = await lab.startBalancer({ toa: { kind: lab.toaKind, placement: ['ack', 'first-data'] } });
  const expected = fnv1a64(backendPatternBytes(DOWNLOAD_BYTES));
  let stopping = false;
  let completed = 0;
  let failed = 0;
  const downloadErrors: string[] = [];
  const fail = (why: string): void => {
    failed++;
    if (downloadErrors.length < 5) downloadErrors.push(why);
  };
  const stream = async (): Promise<void> => {
    while (!stopping) {
      try {
        const response = await httpRequest({ port: balancer.port, path: `/bytes/${DOWNLOAD_BYTES}`, timeoutMs: DOWNLOAD_TIMEOUT_MS });
        if (response.status === 200 && fnv1a64(response.body) === expected) completed++;
        else fail(`HTTP ${response.status}, ${response.body.length} bytes, ${fnv1a64(response.body) === expected ? 'intact' : 'different'}`);
      } catch (error) {
        if (!stopping) fail(error instanceof Error ? error.message : String(error));
      }
    }
  };
  const streams = Array.from({ length: options.downloads }, stream);
  const roundSeconds: number[] = [];
  let failure: string | null = null;
  const cycle = `rmmod toa && insmod ${shellQuote(lab.toaModulePath)}`;
  const command = `for i in $(seq ${options.cyclesPerRound}); do ${cycle} || exit $?; done`;
  try {
    // Let the downloads get going first: the point is to unload under traffic.
    await waitUntil(() => completed + failed > 0 || stopping, FIRST_DOWNLOAD_WAIT_MS);
    for (let round = 0; round < options.rounds && !failure; round++) {
      const result = await lab.guest.run(command, { timeoutMs: options.roundTimeoutMs });
      roundSeconds.push(result.durationMs / 1000);
      options.onRound?.(round + 1, result.durationMs / 1000, completed);
      if (result.exitCode !== 0) {
        failure = result.timedOut
          ? `round ${round + 1}: no answer within ${options.roundTimeoutMs / 1000} s`
          : `round ${round + 1}: exit ${result.exitCode}${result.stderr.trim() ? `: ${result.stderr.trim()}` : ''}`;
      }
    }
  } finally {
    stopping = true;
    await balancer.close();
    await Promise.all(streams);
  }
  const faults = await lab.kernelFaultsSince(since);
  // After a failed round, the same question the scenario runner asks (and the same answer's words).
  const gone = failure ? await guestGone(lab, since) : null;
  return {
    roundsCompleted: failure ? roundSeconds.length - 1 : roundSeconds.length,
    failure: failure && gone ? `${failure}; ${gone}` : failure,
    roundSeconds,
    downloadsCompleted: completed,
    downloadsFailed: failed,
    downloadErrors,
    faults,
    loadedAtEnd: !gone && (await isToaModuleLoaded(lab.guest)),
  };
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
}
