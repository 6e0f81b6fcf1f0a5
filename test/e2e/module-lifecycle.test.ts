import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MicroLab } from '../../harness/lab/micro-lab.ts';
import { RunSession } from '../../harness/lifecycle/run-session.ts';
import { moduleLifecycle } from '../../scenarios/module-lifecycle.ts';
import { expectScenarioPassed } from '../helpers/scenario-verdict.ts';
import { removeRunFolders, runToaLab } from '../helpers/toa-lab-run.ts';

/**
 * The module life cycle on Debian's 5.10 (the kernel the field reports name):
 * our toa.ko through three loads and a refused parameter, and the reload
 * fixture (test/e2e/fixtures/toa-reload-positive: our toa.c, whole on its first
 * load, init returning 1 after) through the CLI as a vendor's source, so the
 * verdict "init incomplete on reload" comes out of a real insmod.
 * Cost measured on a 2-core TCG host: see the report of branch lifecycle.
 */
const ROOT = join(import.meta.dirname, '..', '..');

afterAll(removeRunFolders);

/** The fixture as a vendor would ship it: its kbuild files with our toa.c beside them as toa-main.c. */
function stagedFixture(): string {
  const dir = mkdtempSync(join(tmpdir(), 'toa-reload-fixture-'));
  cpSync(join(ROOT, 'test/e2e/fixtures/toa-reload-positive'), dir, { recursive: true });
  cpSync(join(ROOT, 'native/toa/toa.c'), join(dir, 'toa-main.c'));
  return dir;
}

describe('module life cycle on the bullseye micro-VM (5.10)', () => {
  it("our toa.ko: three loads whole, each serving the injected clients; a bad parameter refused cleanly; no oops", async () => {
    const session = await RunSession.open();
    try {
      const lab = await MicroLab.start(session, { suite: 'bullseye' });
      expectScenarioPassed(await moduleLifecycle.run(lab));
    } finally {
      await session.close();
    }
  });

  it('a module whose init returns 1 after its first load: "init incomplete on reload", with the kernel\'s own line', () => {
    const { records, report } = runToaLab(
      ['--image', 'microvm-bullseye', '--scenario', 'fullnat-toa-v4,module-lifecycle', '--toa-source', stagedFixture()],
      { timeoutMs: 600_000 },
    );
    const outcome = (id: string) => records.find((r) => r.outcome.scenario === id)!.outcome;
    // The first load is whole and works.
    const first = outcome('fullnat-toa-v4').checks;
    expect(first.find((c) => c.kind === 'module-load')?.passed).toBe(true);
    expect(first.filter((c) => !c.passed)).toEqual([]);
    // Every later load: insmod exit 0, module live, no loaded line — and the kernel's reason.
    const lifecycle = outcome('module-lifecycle').checks;
    const loads = lifecycle.filter((c) => c.kind === 'module-init-incomplete');
    expect(loads.map((c) => c.name)).toEqual(['load 1 of 3: toa.ko loads (dmesg | grep TOA)', 'load 2 of 3: toa.ko loads (dmesg | grep TOA)', 'load 3 of 3: toa.ko loads (dmesg | grep TOA)']);
    for (const load of loads) {
      expect(load.observed).toContain("do_init_module: 'toa'->init suspiciously returned 1, it should follow 0/-E convention");
      expect(load.evidence).toContain('TOA: hooked inet_getname');
    }
    // Half-hooked (getname hooked, nothing on the receive side): requests are answered, the backend sees the balancer.
    expect(lifecycle.filter((c) => /^load \d of 3 \(init incomplete, module live\): every request answered/.test(c.name)).every((c) => c.passed)).toBe(true);
    expect(lifecycle.filter((c) => /^load \d of 3 \(init incomplete, module live\)/.test(c.name) && !c.passed)).toHaveLength(3);
    // It unloads each time, and the kernel is not hurt (the stack dump of the warning is no fault).
    expect(lifecycle.filter((c) => c.name.startsWith('rmmod after load')).every((c) => c.passed)).toBe(true);
    expect(lifecycle.find((c) => c.kind === 'kernel-faults')?.passed).toBe(true);
    expect(report).toContain('module verdict: init incomplete on reload');
  });
});
