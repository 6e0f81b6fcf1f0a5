import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunSession } from '../../harness/lifecycle/run-session.ts';
import { runPatchedKernelProcedure, type PatchedKernelRun } from '../../harness/patched-kernel/procedure.ts';
import { formatDuration, formatStepTable } from '../../harness/patched-kernel/step-table.ts';
import { repoRoot } from '../../harness/repo-root.ts';

/**
 * Issue 5 on a Debian image: the guide's 2.6.32 procedure with the lab's own Debian 12
 * image as the machine. The kernel comes from the cache (built by the first
 * `npm run test:kernel` on the machine); it is installed in the running guest the way
 * Debian's `make install` does it (installkernel → initramfs-tools, update-grub), the
 * guide's grub.cfg edit is made, the guest reboots and the harness, as firmware, boots
 * what grub.cfg names. Then uname -r, nohz=off, modprobe toa, modules-load.d, cron, and
 * FULLNAT TOA traffic to python3's http.server. The step table goes to out/patched-kernel/.
 */
describe("the patched-kernel path on the lab's Debian 12 image (installkernel, update-grub, reboot)", () => {
  let session: RunSession;
  let run: PatchedKernelRun;

  beforeAll(async () => {
    session = await RunSession.open();
    run = await runPatchedKernelProcedure({ session, target: 'debian-12', log: (line) => console.log(`patched-kernel/debian-12: ${line}`) });
    await report('debian12-steps', run);
  });

  afterAll(async () => {
    await session?.close();
  });

  it('passes every step of the procedure', () => {
    const notPassed = run.steps.filter((s) => s.status !== 'passed').map((s) => `${s.name}: ${s.status}: ${s.summary}`);
    expect(notPassed).toEqual([]);
    expect(run.steps.map((s) => s.name.split('.')[0])).toEqual(['1', '2', '3', '4', '5a', '5b', '5c', '5d', '5e', '5f', '5g', '6', '6b', '7a', '7b', '7c', '7d', '8a', '8b', '8c']);
  });

  it('installs like Debian: installkernel ran initramfs-tools and zz-update-grub', () => {
    expect(run.steps.find((s) => s.name.startsWith('5g.'))?.summary).toMatch(/initramfs-tools, zz-update-grub;.*initrd\.img-6\.1\.\d+-toa/);
  });

  it('reboots, through grub.cfg, into the -toa kernel with its initrd and nohz=off', () => {
    expect(run.steps.find((s) => s.name.startsWith('7a.'))?.summary).toMatch(/^"Advanced options for Debian GNU\/Linux>Debian GNU\/Linux, with Linux 6\.1\.\d+-toa": \/boot\/vmlinuz-6\.1\.\d+-toa \+ \/boot\/initrd\.img-6\.1\.\d+-toa /);
    expect(run.guest.unameR).toMatch(/^6\.1\.\d+-toa$/);
    expect(run.guest.cmdline?.split(' ')).toEqual(expect.arrayContaining(['nohz=off', 'console=ttyS0']));
    expect(run.guest.cmdline).toMatch(/root=UUID=/);
  });

  it('loads the in-tree module with the kind the guide edited into toa.h (254)', () => {
    expect(run.guest.dmesgToa?.some((line) => /TOA: toa loaded \(kinds 254,/.test(line))).toBe(true);
  });

  it("the backend's own log names the injected clients with toa loaded, and the balancer without it", () => {
    const failed = run.guest.scenario?.checks.filter((c) => !c.passed && !c.informational).map((c) => `${c.name}: ${c.observed}`);
    expect(failed).toEqual([]);
    expect(run.guest.scenario?.checks.map((c) => c.name)).toEqual(
      expect.arrayContaining([expect.stringMatching(/names the simulated clients/), expect.stringMatching(/names the balancer/)]),
    );
  });

  it("without the guide's grub.cfg edit, update-grub's default boots the -toa kernel but without nohz=off, and the run says so", async () => {
    await run.stop();
    const unedited = await runPatchedKernelProcedure({ session, target: 'debian-12', skipBootLoaderEdit: true });
    await report('debian12-steps-without-grub-edit', unedited);
    const cmdline = unedited.steps.find((s) => s.name.startsWith('7b.'));
    expect(cmdline?.status).toBe('failed');
    expect(cmdline?.summary).toMatch(/^\/proc\/cmdline lacks nohz=off: BOOT_IMAGE=\/boot\/vmlinuz-6\.1\.\d+-toa root=UUID=/);
    expect(unedited.steps.find((s) => s.name.startsWith('8a.'))?.status).toBe('skipped');
  });
});

async function report(name: string, run: PatchedKernelRun): Promise<void> {
  const dir = join(repoRoot(), 'out', 'patched-kernel');
  await mkdir(dir, { recursive: true });
  const t = run.timings;
  const ms = (value: number | undefined) => (value === undefined ? '-' : formatDuration(value));
  const timings = [
    `kernel (steps 1–5): ${formatDuration(t.kernelMs)} (${run.kernel?.built ? 'built now: cold' : `from cache, built ${run.kernel?.builtAt}`})`,
    `first boot (stock kernel, to ssh): ${ms(t.firstBootMs)}; install (push, depmod, installkernel): ${ms(t.installMs)}; reboot into -toa (to ssh): ${ms(t.rebootMs)}`,
    `whole run: ${formatDuration(t.totalMs)}`,
  ];
  const text = [formatStepTable(run.steps), '', ...timings, '', `uname -r: ${run.guest.unameR ?? '-'}`, `cmdline: ${run.guest.cmdline ?? '-'}`, ...(run.guest.dmesgToa ?? [])].join('\n');
  console.log(text);
  await writeFile(join(dir, `${name}.md`), `${text}\n`);
  await writeFile(join(dir, `${name}.json`), JSON.stringify(run, null, 2));
}
