import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scenarioPassed } from '../../harness/core/scenario.ts';
import { MicroLab } from '../../harness/lab/micro-lab.ts';
import { RunSession } from '../../harness/lifecycle/run-session.ts';
import { runScenarios } from '../../harness/runner/run-scenarios.ts';
import type { ScenarioOutcome } from '../../harness/core/scenario.ts';
import { fullnatToaV4 } from '../../scenarios/fullnat-toa-v4.ts';
import { rmmodOpenConnections } from '../../scenarios/rmmod-open-connections.ts';

/**
 * eBPF TOA (native/toa-bpf) instead of toa.ko, on the oldest kernel it
 * supports (bullseye's 5.10): our object attached to the backend's cgroup,
 * fullnat-toa-v4's three placements judged on toa-backend's own log, and a
 * scenario about the module itself skipped as not applicable. Cost: ~22 s on a
 * warm cache (boot ~12 s, 9 connections, the attach checks).
 */
describe('eBPF TOA on Linux 5.10 (micro-VM, no toa.ko)', () => {
  let session: RunSession;
  let lab: MicroLab;
  const outcomes: ScenarioOutcome[] = [];

  beforeAll(async () => {
    session = await RunSession.open();
    lab = await MicroLab.start(session, { suite: 'bullseye', toaBpf: {}, log: (line) => console.log(`bullseye: ${line}`) });
    await runScenarios(lab, [fullnatToaV4, rmmodOpenConnections], (o) => outcomes.push(o));
  });

  afterAll(async () => {
    await session?.close();
  });

  it('no toa.ko in the guest: the address comes from the attached programs', async () => {
    expect((await lab.guest.run('grep -c "^toa " /proc/modules')).stdout.trim()).toBe('0');
  });

  it('fullnat-toa-v4 passes on the backend log, each placement', () => {
    const outcome = outcomes.find((o) => o.scenario === fullnatToaV4.id)!;
    const failing = outcome.checks.filter((c) => !c.passed).map((c) => `${c.name}: ${c.observed}`);
    expect(failing).toEqual([]);
    expect(scenarioPassed(outcome)).toBe(true);
    expect(outcome.checks[0]!.name).toMatch(/eBPF TOA attaches/);
  });

  it('a scenario about the module itself is a typed skip, not a failure', () => {
    const outcome = outcomes.find((o) => o.scenario === rmmodOpenConnections.id)!;
    expect(outcome.skipped).toMatch(/not applicable to eBPF/);
    expect(outcome.checks).toEqual([]);
  });
});
