import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Check } from '../../harness/core/scenario.ts';
import { MicroLab } from '../../harness/lab/micro-lab.ts';
import { RunSession } from '../../harness/lifecycle/run-session.ts';
import { fullnatToaV4 } from '../../scenarios/fullnat-toa-v4.ts';
import { synCookies } from '../../scenarios/syn-cookies.ts';
import { expectScenarioPassed } from '../helpers/scenario-verdict.ts';

/**
 * A micro-VM restored from its saved guest (harness/vm/micro-vm-snapshot.ts)
 * must be as trustworthy as a booted one: the same scenarios give the same
 * verdicts on the same evidence, and no two restores share their randomness
 * or carry the snapshot's wall clock. bookworm's 6.1 (the default image).
 *
 * syn-cookies is the second scenario on purpose: its connections are built
 * from SYN cookies, whose secret the kernel draws on first use, i.e. after the
 * restore's reseed (the snapshot is saved before any TCP connection).
 */
const SCENARIOS = [fullnatToaV4, synCookies];

/** What a verdict is made of, without the values that differ run to run (ports, times). */
function verdictShape(checks: readonly Check[]): unknown[] {
  return checks.map((c) => ({ name: c.name, passed: c.passed, informational: c.informational ?? false, kind: c.kind ?? null, evidence: c.evidence !== undefined }));
}

async function randomness(lab: MicroLab): Promise<{ bootId: string; urandom: string }> {
  const out = (await lab.guest.check('cat /proc/sys/kernel/random/boot_id; head -c 32 /dev/urandom | base64')).stdout.trim().split('\n');
  return { bootId: out[0]!, urandom: out.slice(1).join('') };
}

describe('a micro-VM restored from its snapshot', () => {
  let session: RunSession;
  const coldBoot = process.env.TOA_LAB_COLD_BOOT;
  const booted: unknown[][] = [];

  beforeAll(async () => {
    // This test is about restores: a run-wide "boot everything" does not apply to it.
    delete process.env.TOA_LAB_COLD_BOOT;
    session = await RunSession.open();
    // The booted reference; then make sure the cache holds a snapshot (the first
    // 'snapshot' start on a cold cache boots and saves one).
    const lab = await MicroLab.start(session, { start: 'boot', log: (line) => console.log(`booted: ${line}`) });
    expect(lab.vm.startedFrom.how).toBe('booted');
    for (const scenario of SCENARIOS) {
      const checks = await scenario.run(lab);
      expectScenarioPassed(checks);
      booted.push(verdictShape(checks));
    }
    await lab.stop();
    const saver = await MicroLab.start(session, { start: 'snapshot', log: (line) => console.log(`snapshot: ${line}`) });
    await saver.stop();
  });

  afterAll(async () => {
    if (coldBoot !== undefined) process.env.TOA_LAB_COLD_BOOT = coldBoot;
    await session?.close();
  });

  it('gives the verdicts a booted guest gives, check by check, on the same kinds of evidence', async () => {
    const lab = await MicroLab.start(session, { start: 'snapshot', log: (line) => console.log(`restored: ${line}`) });
    try {
      expect(lab.vm.startedFrom.how).toBe('restored');
      const restored: unknown[][] = [];
      for (const scenario of SCENARIOS) {
        const checks = await scenario.run(lab);
        expectScenarioPassed(checks);
        restored.push(verdictShape(checks));
      }
      expect(restored).toEqual(booted);
    } finally {
      await lab.stop();
    }
  });

  it('gets fresh randomness and the host time on every restore, and keeps its boot console as evidence', async () => {
    const seen: Array<{ bootId: string; urandom: string }> = [];
    for (const label of ['first', 'second']) {
      const lab = await MicroLab.start(session, { start: 'snapshot', log: (line) => console.log(`${label} restore: ${line}`) });
      try {
        const start = lab.vm.startedFrom;
        expect(start.how).toBe('restored');
        if (start.how === 'restored') expect(start.reseed).toBe('entropy-added-bits 512; crng-reseed 0; clock-set 0');
        seen.push(await randomness(lab));
        const guestSeconds = Number((await lab.guest.check('date +%s')).stdout.trim());
        expect(Math.abs(guestSeconds - Date.now() / 1000)).toBeLessThan(3);
        const console = await readFile(lab.vm.console.path, 'utf8');
        expect(console).toMatch(/toa-lab: guest ready kernel=\S+\n[^]*toa-lab: restored from snapshot [0-9a-f]+ /);
      } finally {
        await lab.stop();
      }
    }
    expect(seen[0]!.bootId).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen[1]!.bootId).not.toBe(seen[0]!.bootId);
    expect(seen[1]!.urandom).not.toBe(seen[0]!.urandom);
  });
});
