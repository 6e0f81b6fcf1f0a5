import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveGuestKernel } from '../../harness/images/microvm/guest-kernel.ts';
import { MicroLab } from '../../harness/lab/micro-lab.ts';
import { twoModulesAtOnce } from '../../harness/lab/module-pair.ts';
import { withToaModule } from '../../harness/lab/toa-state.ts';
import { RunSession } from '../../harness/lifecycle/run-session.ts';
import { moduleVerdict } from '../../harness/runner/module-verdict.ts';
import type { ScenarioOutcome } from '../../harness/core/scenario.ts';
import { fullnatToaV4 } from '../../scenarios/fullnat-toa-v4.ts';
import { moduleLifecycle } from '../../scenarios/module-lifecycle.ts';
import { labWithModule, pushModule } from '../helpers/guest-files.ts';
import { expectScenarioPassed } from '../helpers/scenario-verdict.ts';

/**
 * The module life cycle on Debian's 5.10 (the kernel the field reports name),
 * in one boot of the lab's cached bullseye micro-VM:
 * - our toa.ko through three loads and a refused parameter;
 * - the reload fixture (test/e2e/fixtures/toa-reload-positive: our toa.c, whole on its
 *   first load, init returning 1 after), pushed into the guest: "init incomplete on reload";
 * - our toa.ko beside a second build of itself named toa_twin (test/e2e/fixtures/toa-twin),
 *   loaded and unloaded in both orders.
 * The fixtures are built here in the bullseye chroot (3–6 s each, while the guest boots).
 * Cost on a 2-core TCG host shared with other guests: 42 s with a warm cache (the three tests
 * ~11 s of it), 67 s when native/toa changed (the bullseye image is rebuilt first).
 * The same fixture through the CLI and its report: test/e2e-full/module-reload-cli.test.ts.
 */
const ROOT = join(import.meta.dirname, '..', '..');

/** A fixture's kbuild files with our toa.c beside them under the name they include. */
function staged(fixture: string, toaSourceName: string): string {
  const dir = mkdtempSync(join(tmpdir(), `${fixture}-`));
  cpSync(join(ROOT, 'test/e2e/fixtures', fixture), dir, { recursive: true });
  cpSync(join(ROOT, 'native/toa/toa.c'), join(dir, toaSourceName));
  return dir;
}

async function buildFixture(fixture: string, toaSourceName: string, ko: string): Promise<string> {
  const kernel = await resolveGuestKernel({ from: 'suite', suite: 'bullseye' }, () => {});
  const out = join(mkdtempSync(join(tmpdir(), 'toa-fixture-build-')), 'build');
  const made = await kernel.buildExternalModule(staged(fixture, toaSourceName), out, 'kbuild');
  if (made.exitCode !== 0) throw new Error(`${fixture} does not build:\n${made.stdout}\n${made.stderr}`);
  return join(out, ko);
}

describe('module life cycle on the bullseye micro-VM (5.10)', () => {
  let session: RunSession;
  let lab: MicroLab;
  const RELOAD_FIXTURE = '/tmp/reload-fixture/toa.ko';
  const TWIN = '/tmp/toa_twin.ko';

  beforeAll(async () => {
    session = await RunSession.open();
    // One after the other: a chroot build uses one folder per process (harness/images/microvm/guest-kernel.ts).
    const fixtures = (async (): Promise<[string, string]> => [
      await buildFixture('toa-reload-positive', 'toa-main.c', 'toa.ko'),
      await buildFixture('toa-twin', 'toa_twin.c', 'toa_twin.ko'),
    ])();
    const [[reloadKo, twinKo], started] = await Promise.all([fixtures, MicroLab.start(session, { suite: 'bullseye' })]);
    lab = started;
    await lab.guest.check('mkdir -p /tmp/reload-fixture');
    await pushModule(lab.guest, reloadKo, RELOAD_FIXTURE);
    await pushModule(lab.guest, twinKo, TWIN);
  });

  afterAll(async () => {
    await session?.close();
  });

  it('our toa.ko: three loads whole, each serving the injected clients; a bad parameter refused cleanly; no oops', async () => {
    expectScenarioPassed(await moduleLifecycle.run(lab));
  });

  it('two builds of our toa.ko at once (toa, toa_twin), loaded and unloaded in both orders', async () => {
    const ours = { name: 'toa', path: lab.toaModulePath };
    const twin = { name: 'toa_twin', path: TWIN };
    const checks = [...(await twoModulesAtOnce(lab, ours, twin)), ...(await twoModulesAtOnce(lab, twin, ours))];
    console.log(checks.map((c) => `${c.passed ? 'ok  ' : 'FAIL'} ${c.name}: ${c.observed}`).join('\n'));
    expectScenarioPassed(checks);
  });

  it('a module whose init returns 1 after its first load: "init incomplete on reload", with the kernel\'s own line', async () => {
    const fixture = labWithModule(lab, RELOAD_FIXTURE);
    if ((await fixture.guest.run('grep -q "^toa " /proc/modules')).exitCode === 0) await fixture.guest.check('rmmod toa');
    const run = async (scenario: typeof fullnatToaV4): Promise<ScenarioOutcome> => ({
      scenario: scenario.id,
      title: scenario.title,
      checks: await scenario.run(fixture),
      durationMs: 0,
    });
    const outcomes = [await run(fullnatToaV4), await run(moduleLifecycle)];
    // The first load is whole and works.
    expect(outcomes[0]!.checks.filter((c) => !c.passed)).toEqual([]);
    // Every later load: insmod exit 0, module live, no loaded line — and the kernel's reason.
    const lifecycle = outcomes[1]!.checks;
    const loads = lifecycle.filter((c) => c.kind === 'module-init-incomplete');
    expect(loads).toHaveLength(3);
    for (const load of loads) {
      expect(load.observed).toContain("do_init_module: 'toa'->init suspiciously returned 1, it should follow 0/-E convention");
      expect(load.evidence).toContain('TOA: hooked inet_getname');
    }
    // Half-hooked (getname hooked, nothing on the receive side): requests are answered, the backend sees the balancer.
    const after = lifecycle.filter((c) => c.name.includes('(init incomplete, module live)'));
    expect(after.filter((c) => c.passed).map((c) => c.name)).toEqual(after.filter((c) => c.name.includes('every request answered')).map((c) => c.name));
    expect(after.filter((c) => !c.passed)).toHaveLength(3);
    // It unloads each time, and the kernel is not hurt (the warning's stack dump is no fault).
    expect(lifecycle.filter((c) => c.name.startsWith('rmmod after load')).every((c) => c.passed)).toBe(true);
    expect(lifecycle.find((c) => c.kind === 'kernel-faults')?.passed).toBe(true);
    expect(moduleVerdict(outcomes)).toBe('init incomplete on reload');
    // Back to ours for whatever runs next in this guest.
    expect((await withToaModule(lab, {})).passed).toBe(true);
  });
});
