import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHostCommand } from '../../harness/exec/run-host-command.ts';
import { removeRunFolders, runToaLab } from '../helpers/toa-lab-run.ts';
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

/**
 * `--toa-bpf OBJ`: a user's own object, not ours. The fixture (test/fixtures/toa-bpf-kind200,
 * compiled here with the host's clang, as a user would) reads kind 200 from the segment that
 * creates the connection and answers IPv4 getpeername only. The guest's own answer decides:
 * the kernel lists the user's programs on the backend's cgroup, the backend logs the clients
 * the balancer sent in kind 200, and IPv6 — which the object does not serve — fails on the
 * backend's log, as it must. Cost: one bookworm micro-VM, ~30 s warm.
 */
describe("a user's own eBPF object (--toa-bpf OBJ) on Linux 6.1", () => {
  afterAll(removeRunFolders);

  it("attaches the user's programs and judges them on the backend's log, kind 200 from the balancer", async () => {
    const object = join(mkdtempSync(join(tmpdir(), 'user-bpf-')), 'kind200.bpf.o');
    const source = join(import.meta.dirname, '..', 'fixtures', 'toa-bpf-kind200', 'kind200.bpf.c');
    const machine = (await runHostCommand('gcc', ['-dumpmachine'])).stdout.trim();
    await runHostCommand('clang', ['-O2', '-g', '-Wall', '-Werror', '-target', 'bpf', `-I/usr/include/${machine}`, '-c', source, '-o', object]);

    const run = runToaLab(['--image', 'microvm-bookworm', '--toa-bpf', object, '--toa-kind', '200', '--scenario', 'fullnat-toa-v4,fullnat-toa-v6'], { timeoutMs: 300_000 });
    expect(run.code, run.stderr).toBe(1);
    const v4 = run.outcome('microvm-bookworm', 'fullnat-toa-v4')!;
    expect(v4.checks.filter((c) => !c.passed).map((c) => `${c.name}: ${c.observed}`)).toEqual([]);
    // The kernel's list of programs on the cgroup names the user's, not native/toa-bpf's.
    expect(v4.checks[0]!.observed).toMatch(/sockops: vendor_read_kin\S* \(id \d+\), getpeername4: vendor_peer4/);
    const v6 = run.outcome('microvm-bookworm', 'fullnat-toa-v6')!;
    expect(v6.checks.find((c) => c.name.startsWith('IPv6 client → IPv6 listener: each connection'))?.passed).toBe(false);
    expect(run.report).toContain('| TOA, eBPF (no module) | ❌ 1/2 passed; failed: fullnat-toa-v6 |');
  });
});
