import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeRunFolders, runToaLab } from '../helpers/toa-lab-run.ts';

/**
 * The reload fixture (test/e2e/fixtures/toa-reload-positive: our toa.c, whole on
 * its first load, init returning 1 after) through the CLI as a vendor's source,
 * on Debian's 5.10: the cell's verdict "init incomplete on reload" in the report.
 * 53–62 s on a 2-core TCG host (a micro-VM image is built for each build of the
 * fixture), so here rather than in test/e2e, which covers the same in one shared
 * boot (test/e2e/module-lifecycle.test.ts).
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

describe('the reload fixture through the CLI on the bullseye micro-VM (5.10)', () => {
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
