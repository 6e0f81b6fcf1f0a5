/**
 * Compile speed in a TCG guest against the host: the same out-of-tree build
 * of native/toa against Debian 6.1 headers, three times on each side. The
 * ratio says what the guide's "build the kernel on the machine" would cost in
 * a guest here (BENCHMARKS.md, patched kernel: host or guest).
 *
 *   npx tsx bench/guest-compile.ts
 */
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runHostCommand } from '../harness/exec/run-host-command.ts';
import { QemuMachine } from '../harness/machine/qemu-machine.ts';
import { RunSession } from '../harness/lifecycle/run-session.ts';
import { repoRoot } from '../harness/repo-root.ts';
import { median } from './median.ts';

const RUNS = 3;
const SOURCE = join(repoRoot(), 'native', 'toa');
const isSource = (path: string) => /\.(c|h)$|\/(Makefile|Kbuild)$/.test(path);

/** The host's Debian 6.1 headers (the image's kernel series; the host kernel itself may be anything). */
async function hostHeaders(): Promise<string> {
  const dirs = (await readdir('/usr/src')).filter((d) => /^linux-headers-6\.1\.\d+-\d+-amd64$/.test(d)).sort();
  if (!dirs.length) throw new Error('no /usr/src/linux-headers-6.1.*-amd64 (scripts/install-deps.sh installs them)');
  return join('/usr/src', dirs.at(-1)!);
}

async function timeHost(headers: string): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'toa-lab-compile-'));
  try {
    await cp(SOURCE, dir, { recursive: true, filter: (path) => path === SOURCE || isSource(path) });
    const started = performance.now();
    await runHostCommand('make', ['-C', headers, `M=${dir}`, 'modules'], { timeoutMs: 300_000 });
    return (performance.now() - started) / 1000;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const headers = await hostHeaders();
const host: number[] = [];
for (let i = 0; i < RUNS; i++) host.push(await timeHost(headers));

const session = await RunSession.open();
const guest: number[] = [];
let guestKernel = '';
try {
  const lab = await QemuMachine.start(session, { image: 'debian-12' });
  guestKernel = (await lab.guest.check('uname -r')).stdout.trim();
  await lab.guest.putDirectory(SOURCE, '/root/compile', isSource);
  for (let i = 0; i < RUNS; i++) {
    await lab.guest.check('cd /root/compile && make -C /lib/modules/$(uname -r)/build M=$PWD clean >/dev/null');
    const started = performance.now();
    await lab.guest.check('make -C /lib/modules/$(uname -r)/build M=/root/compile modules >/dev/null', { timeoutMs: 600_000 });
    guest.push((performance.now() - started) / 1000);
  }
} finally {
  await session.close();
}
const fmt = (values: number[]) => values.map((v) => v.toFixed(2)).join(', ');
console.log(`host (${headers}): ${fmt(host)} s; median ${median(host).toFixed(2)} s`);
console.log(`guest (Debian 12, ${guestKernel}, TCG): ${fmt(guest)} s; median ${median(guest).toFixed(2)} s`);
console.log(`guest / host: ×${(median(guest) / median(host)).toFixed(1)}`);
