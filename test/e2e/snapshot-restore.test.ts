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

/** A restored lab; on a cold cache the first 'snapshot' start boots and saves, so it starts again. */
async function restoredLab(session: RunSession, label: string): Promise<MicroLab> {
  const log = (line: string): void => console.log(`${label}: ${line}`);
  const lab = await MicroLab.start(session, { start: 'snapshot', log });
  if (lab.vm.startedFrom.how === 'restored') return lab;
  await lab.stop();
  return MicroLab.start(session, { start: 'snapshot', log });
}

/** The restore's own promises: reseeded, the host's time, the boot console kept. */
async function expectFreshRestore(lab: MicroLab): Promise<void> {
  const start = lab.vm.startedFrom;
  expect(start.how).toBe('restored');
  if (start.how === 'restored') expect(start.reseed).toBe('entropy-added-bits 512; crng-reseed 0; clock-set 0');
  const guestSeconds = Number((await lab.guest.check('date +%s')).stdout.trim());
  expect(Math.abs(guestSeconds - Date.now() / 1000)).toBeLessThan(3);
  const text = await readFile(lab.vm.console.path, 'utf8');
  const ready = text.search(/toa-lab: guest ready kernel=/);
  expect(ready).toBeGreaterThanOrEqual(0);
  expect(text.slice(ready)).toMatch(/toa-lab: restored from snapshot [0-9a-f]+ /);
}

describe('a micro-VM restored from its snapshot', () => {
  let session: RunSession;
  const coldBoot = process.env.TOA_LAB_COLD_BOOT;
  const booted: unknown[][] = [];
  let first: { bootId: string; urandom: string } | undefined;

  beforeAll(async () => {
    // This test is about restores: a run-wide "boot everything" does not apply to it.
    delete process.env.TOA_LAB_COLD_BOOT;
    session = await RunSession.open();
    // The reference: a plain cold boot, as every cell had before snapshots.
    const lab = await MicroLab.start(session, { start: 'boot', log: (line) => console.log(`booted: ${line}`) });
    expect(lab.vm.startedFrom.how).toBe('booted');
    for (const scenario of SCENARIOS) {
      const checks = await scenario.run(lab);
      expectScenarioPassed(checks);
      booted.push(verdictShape(checks));
    }
    await lab.stop();
  });

  afterAll(async () => {
    if (coldBoot !== undefined) process.env.TOA_LAB_COLD_BOOT = coldBoot;
    await session?.close();
  });

  it('gives the verdicts a booted guest gives, check by check, on the same kinds of evidence', async () => {
    const lab = await restoredLab(session, 'restored');
    try {
      await expectFreshRestore(lab);
      // Read before any scenario: the randomness the restore itself left, compared below.
      first = await randomness(lab);
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

  it('gets fresh randomness on every restore: two restores share no boot_id and no /dev/urandom bytes', async () => {
    expect(first?.bootId).toMatch(/^[0-9a-f-]{36}$/);
    const lab = await restoredLab(session, 'second restore');
    try {
      await expectFreshRestore(lab);
      const second = await randomness(lab);
      expect(second.bootId).not.toBe(first!.bootId);
      expect(second.urandom).not.toBe(first!.urandom);
    } finally {
      await lab.stop();
    }
  });
});
