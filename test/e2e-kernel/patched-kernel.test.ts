import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunSession } from '../../harness/lifecycle/run-session.ts';
import { runPatchedKernelProcedure, type PatchedKernelRun } from '../../harness/patched-kernel/procedure.ts';
import { formatDuration, formatStepTable } from '../../harness/patched-kernel/step-table.ts';
import { repoRoot } from '../../harness/repo-root.ts';

/**
 * Issue 5: the Huawei guide's 2.6.32 procedure — a kernel rebuilt with TOA in-tree —
 * carried out for real. The first run on a machine builds the kernel from Debian's
 * linux-source-6.1 with toa-lab's net/toa (tens of minutes on 2 shared cores); every
 * later run takes it from the cache, then boots it from its own disk through its
 * grub.conf, and checks uname -r, modprobe toa, dmesg, the startup script, the cron
 * monitor and the FULLNAT TOA scenario. The step table goes to out/patched-kernel/.
 */
describe('the 2.6.32 patched-kernel path (rebuild with net/toa, reboot, modprobe toa)', () => {
  let session: RunSession;
  let run: PatchedKernelRun;

  beforeAll(async () => {
    session = await RunSession.open();
    run = await runPatchedKernelProcedure({ session, log: (line) => console.log(`patched-kernel: ${line}`) });
    await report('steps', run);
  });

  afterAll(async () => {
    await session?.close();
  });

  it('passes every step of the procedure', () => {
    const notPassed = run.steps.filter((s) => s.status !== 'passed').map((s) => `${s.name}: ${s.status}: ${s.summary}`);
    expect(notPassed).toEqual([]);
    expect(run.steps.map((s) => s.name.split('.')[0])).toEqual(['1', '2', '3', '4', '5a', '5b', '5c', '5d', '6', '7a', '7b', '7c', '7d', '8']);
  });

  it('reboots into the -toa kernel with nohz=off', () => {
    expect(run.guest.unameR).toMatch(/^6\.1\.\d+-toa$/);
    expect(run.guest.cmdline?.split(' ')).toContain('nohz=off');
  });

  it('loads the in-tree module with the kind the guide edited into toa.h (254)', () => {
    expect(run.guest.dmesgToa?.some((line) => /TOA: toa loaded \(kinds 254,/.test(line))).toBe(true);
  });

  it("passes the FULLNAT TOA scenario on that kernel (the backend logs each client's ip:port)", () => {
    const scenario = run.guest.scenario;
    expect(scenario?.error).toBeUndefined();
    const failed = scenario?.checks.filter((c) => !c.passed && !c.informational).map((c) => `${c.name}: ${c.observed}`);
    expect(failed).toEqual([]);
    expect(scenario?.checks.some((c) => /each connection|client/i.test(c.name) && c.passed)).toBe(true);
  });

  it("without the guide's grub.conf edit the machine boots its old kernel, and the run says so", async () => {
    await run.stop();
    const unedited = await runPatchedKernelProcedure({ session, skipBootLoaderEdit: true });
    await report('steps-without-grub-edit', unedited);
    const uname = unedited.steps.find((s) => s.name.startsWith('7b.'));
    expect(uname?.status).toBe('failed');
    expect(uname?.summary).toMatch(/^uname -r is 6\.1\.0-\d+-amd64: the machine did not boot the -toa kernel$/);
    expect(unedited.steps.find((s) => s.name.startsWith('8.'))?.status).toBe('skipped');
  });
});

async function report(name: string, run: PatchedKernelRun): Promise<void> {
  const dir = join(repoRoot(), 'out', 'patched-kernel');
  await mkdir(dir, { recursive: true });
  const timings = [
    `kernel (steps 1–5): ${formatDuration(run.timings.kernelMs)} (${run.kernel?.built ? 'built now: cold' : `from cache, built ${run.kernel?.builtAt}`})`,
    `boot: ${run.timings.bootMs === undefined ? '-' : formatDuration(run.timings.bootMs)}`,
    `whole run: ${formatDuration(run.timings.totalMs)}`,
  ];
  const text = [formatStepTable(run.steps), '', ...timings, '', `uname -r: ${run.guest.unameR ?? '-'}`, `cmdline: ${run.guest.cmdline ?? '-'}`, ...(run.guest.dmesgToa ?? [])].join('\n');
  console.log(text);
  await writeFile(join(dir, `${name}.md`), `${text}\n`);
  await writeFile(join(dir, `${name}.json`), JSON.stringify(run, null, 2));
}
