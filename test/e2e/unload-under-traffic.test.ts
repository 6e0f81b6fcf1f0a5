import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MicroLab } from '../../harness/lab/micro-lab.ts';
import { cycleToaUnderTraffic, unloadCyclesBoundMs, type UnloadCyclesOptions } from '../../harness/lab/unload-cycles.ts';
import { RunSession } from '../../harness/lifecycle/run-session.ts';

/**
 * 100 unloads and loads of toa.ko while 60 downloads stream through the
 * balancer. rmmod-under-load unloads once; a rare hang needs many tries. This
 * is the test that caught QEMU's multi-threaded TCG livelocking the guest on
 * the int3 of a code patch (harness/vm/qemu/tcg-threading.ts): with
 * TOA_LAB_TCG_THREAD=multi it fails in the first round or two.
 */
const CYCLES: UnloadCyclesOptions = {
  rounds: 10,
  cyclesPerRound: 10,
  downloads: 60,
  // A round takes 8-13 s on a quiet 2-core machine under TCG; four times that is a hang.
  roundTimeoutMs: 50_000,
  onRound: (round, seconds, downloads) => console.log(`round ${round}/10: ${seconds.toFixed(1)} s, ${downloads} downloads so far`),
};

describe('toa.ko unloaded and loaded 100 times under traffic (micro-VM, Debian 12 kernel)', () => {
  let session: RunSession;
  let lab: MicroLab;

  beforeAll(async () => {
    session = await RunSession.open();
    lab = await MicroLab.start(session, { log: (line) => console.log(line) });
  });

  afterAll(async () => {
    await session?.close();
  });

  it('the guest answers after every round, every download completes intact, the kernel logs no fault', async () => {
    const result = await cycleToaUnderTraffic(lab, CYCLES);
    console.log(
      `rounds ${result.roundsCompleted}/10 (s: ${result.roundSeconds.map((s) => s.toFixed(1)).join(', ')}); ` +
        `downloads ${result.downloadsCompleted} intact, ${result.downloadsFailed} failed ${result.downloadErrors.join('; ')}`,
    );
    expect(result.failure, result.faults.map((f) => f.line).join('\n')).toBeNull();
    expect(result.roundsCompleted).toBe(10);
    expect(result.faults).toEqual([]);
    expect(result.loadedAtEnd).toBe(true);
    expect(result.downloadsCompleted).toBeGreaterThan(100);
    expect(result.downloadErrors).toEqual([]);
    // Above the cycles' own bound: a slow or hung guest fails with the round that hung and its console.
  }, unloadCyclesBoundMs(CYCLES) + 60_000);
});
