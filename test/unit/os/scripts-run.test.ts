import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT_CODES, profileById, renderProcedure } from '../../../harness/os/index.ts';
import { listeningFunctionLines, shScript } from '../../../harness/os/shell.ts';
import { canonicalOptions, Sandbox, stepOf } from './helpers.ts';

/** Rendered scripts run by real sh (or bash) with fake package managers and kernel tools on PATH. */

const RELEASE = '6.1.0-99-amd64';
const FAKE_UNAME = `[ "$1" = -r ] && echo ${RELEASE} || echo Linux`;

let sandbox: Sandbox | undefined;
afterEach(() => {
  sandbox?.remove();
  sandbox = undefined;
});

describe('toolchain', () => {
  it('exits 3 with "no kernel-devel package for <release>" when apt cannot provide the headers', () => {
    sandbox = new Sandbox({
      uname: FAKE_UNAME,
      dpkg: 'exit 1',
      'apt-get': 'echo "E: Unable to locate package $*" >&2; exit 100',
      'apt-cache': 'echo "E: No packages found" >&2; exit 100',
    });
    const toolchain = stepOf(renderProcedure(profileById('debian-12'), canonicalOptions()), 'toolchain');
    const run = sandbox.run(toolchain.script);
    expect(run.code).toBe(EXIT_CODES.noKernelDevel);
    expect(run.stderr).toContain(`toa-lab: no kernel-devel package for ${RELEASE} (linux-headers-${RELEASE} is not installed and apt cannot provide it)`);
    // It checked the exact package first and never tried to install anything.
    expect(run.calls.filter((c) => !c.startsWith('uname'))).toEqual([
      `dpkg -s linux-headers-${RELEASE}`,
      'apt-get -o Acquire::Retries=0 -q update',
      `apt-cache show --no-all-versions linux-headers-${RELEASE}`,
    ]);
  });

  it('exits 3 on yum too, asking for kernel-devel-<release>', () => {
    sandbox = new Sandbox({ uname: '[ "$1" = -r ] && echo 3.10.0-693.11.1.el7.x86_64', rpm: 'exit 1', yum: 'exit 1' });
    const run = sandbox.run(stepOf(renderProcedure(profileById('centos-7'), canonicalOptions()), 'toolchain').script);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('toa-lab: no kernel-devel package for 3.10.0-693.11.1.el7.x86_64 (kernel-devel-3.10.0-693.11.1.el7.x86_64 is not installed and yum cannot provide it)');
    expect(run.calls).toContain('yum -q -y list available kernel-devel-3.10.0-693.11.1.el7.x86_64');
  });

  it('installs what is missing in one call, refreshing the lists once', () => {
    sandbox = new Sandbox({ uname: FAKE_UNAME, dpkg: 'exit 1', 'apt-get': 'exit 0', 'apt-cache': 'exit 0' });
    const run = sandbox.run(stepOf(renderProcedure(profileById('debian-12'), canonicalOptions()), 'toolchain').script);
    const aptGet = run.calls.filter((c) => c.startsWith('apt-get'));
    expect(aptGet).toEqual([
      'apt-get -o Acquire::Retries=0 -q update',
      `apt-get -o Acquire::Retries=0 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold -y -q install linux-headers-${RELEASE} gcc make`,
    ]);
    // The fake install put no headers in /lib/modules/<release>/build: still a "no kernel-devel" verdict.
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`/lib/modules/${RELEASE}/build/Makefile is missing with linux-headers-${RELEASE} installed`);
  });

  it('touches no package manager when everything is installed (offline images)', () => {
    sandbox = new Sandbox({ uname: FAKE_UNAME, dpkg: "echo 'Status: install ok installed'", 'apt-get': 'exit 1', 'apt-cache': 'exit 1' });
    const run = sandbox.run(stepOf(renderProcedure(profileById('debian-13'), canonicalOptions()), 'toolchain').script);
    expect(run.stdout).toContain('toa-lab: toolchain already installed');
    expect(run.calls.filter((c) => c.startsWith('apt'))).toEqual([]);
  });
});

describe('toa-build', () => {
  it('builds where the Makefile is (Huawei layout: src/) and leaves toa.ko at <source>/toa.ko', () => {
    sandbox = new Sandbox({
      uname: FAKE_UNAME,
      make: 'touch "$2/toa.ko"; echo "  LD [M]  toa.ko"',
      modinfo: `echo "${RELEASE} SMP preempt mod_unload modversions"`,
    });
    const src = join(sandbox.dir, 'TCP_option_address');
    mkdirSync(join(src, 'src'), { recursive: true });
    writeFileSync(join(src, 'src/Makefile'), 'obj-m := toa.o\n');
    const run = sandbox.run(stepOf(renderProcedure(profileById('debian-12'), canonicalOptions({ toaSourceDir: src })), 'toa-build').script);
    expect(run.code, run.stderr).toBe(0);
    expect(run.calls).toContain(`make -C ${src}/src`);
    expect(readFileSync(join(src, 'toa.ko'), 'utf8')).toBe('');
    expect(run.stdout).toContain(`toa-lab: built ${src}/toa.ko for ${RELEASE}`);
  });

  it('refuses a module built for another kernel', () => {
    sandbox = new Sandbox({ uname: FAKE_UNAME, make: 'touch "$2/toa.ko"', modinfo: 'echo "5.10.0-30-amd64 SMP mod_unload"' });
    const src = join(sandbox.dir, 'toa');
    mkdirSync(src);
    writeFileSync(join(src, 'Makefile'), '');
    const run = sandbox.run(stepOf(renderProcedure(profileById('debian-12'), canonicalOptions({ toaSourceDir: src })), 'toa-build').script);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`was built for 5.10.0-30-amd64, not for the running kernel ${RELEASE}`);
  });

  it('names the guide\'s retpoline failure', () => {
    sandbox = new Sandbox({ make: 'echo "config_retpoline=y but not supported by the compiler, Compiler update recommended"; exit 2' });
    const src = join(sandbox.dir, 'toa');
    mkdirSync(src);
    writeFileSync(join(src, 'Makefile'), '');
    const run = sandbox.run(stepOf(renderProcedure(profileById('ubuntu-18.04'), canonicalOptions({ toaSourceDir: src })), 'toa-build').script);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('gcc is older than this kernel');
  });

  it('exits 4 when the source was not pushed', () => {
    sandbox = new Sandbox();
    const run = sandbox.run(stepOf(renderProcedure(profileById('debian-12'), canonicalOptions({ toaSourceDir: `${sandbox.dir}/nowhere` })), 'toa-build').script);
    expect([run.code, run.stderr]).toEqual([4, expect.stringContaining('TOA source not found')]);
  });
});

describe('toa-load', () => {
  const dmesg = 'grep -h . "$TOA_TEST_DIR/dmesg" 2>/dev/null || true';

  it('succeeds when insmod makes dmesg say "TOA: toa loaded"', () => {
    sandbox = new Sandbox({ insmod: `echo "[ 12.3] TOA: toa loaded (kinds 254)" >> "$TOA_TEST_DIR/dmesg"`, rmmod: '', dmesg });
    writeFileSync(join(sandbox.dir, 'toa.ko'), '');
    const run = sandbox.run(stepOf(renderProcedure(profileById('debian-12'), canonicalOptions({ toaSourceDir: sandbox.dir })), 'toa-load').script);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('TOA: toa loaded (kinds 254)');
  });

  it('fails when dmesg has only an old "toa loaded" line', () => {
    sandbox = new Sandbox({ insmod: '', rmmod: '', dmesg });
    writeFileSync(join(sandbox.dir, 'dmesg'), '[ 1.0] TOA: toa loaded\n');
    writeFileSync(join(sandbox.dir, 'toa.ko'), '');
    const run = sandbox.run(stepOf(renderProcedure(profileById('debian-12'), canonicalOptions({ toaSourceDir: sandbox.dir })), 'toa-load').script);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("dmesg shows no new 'TOA: toa loaded'");
  });
});

describe('backend', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  async function freePort(): Promise<number> {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as { port: number };
    await new Promise((resolve) => probe.close(resolve));
    return port;
  }

  it('`listening` sees a real listener through /proc/net/tcp', async () => {
    server = createServer();
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    sandbox = new Sandbox();
    const check = (p: number) => sandbox!.run(shScript('t', [...listeningFunctionLines(p), 'listening && echo yes || echo no'])).stdout.trim();
    expect(check(port)).toBe('yes');
    server.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(check(port)).toBe('no');
  });

  it('starts the guide\'s python3 -m http.server, waits for it, and its log shows the client', async () => {
    sandbox = new Sandbox();
    const box = sandbox;
    const port = await freePort();
    const accessLog = join(box.dir, 'log/access.log');
    mkdirSync(join(box.dir, 'var/run'), { recursive: true });
    const backend = stepOf(renderProcedure(profileById('debian-12'), canonicalOptions({ backend: { port, kind: 'python', accessLog } })), 'backend');
    const run = box.run(box.relocate(backend.script, ['/srv/', '/var/run/']));
    const pid = Number(readFileSync(join(box.dir, `var/run/toa-lab-backend-${port}.pid`), 'utf8'));
    try {
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain(`'python3 -m http.server ${port}'`);
      expect(box.run(backend.verify!).code).toBe(0);
      expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(readFileSync(accessLog, 'utf8')).toMatch(/^127\.0\.0\.1 - - \[.+\] "GET \/ HTTP\/1\.1" 200 -$/m);
      // A second start finds the port taken: a precondition verdict, not a confusing crash.
      const again = box.run(box.relocate(backend.script, ['/srv/', '/var/run/']));
      expect([again.code, again.stderr]).toEqual([4, expect.stringContaining(`something already listens on TCP port ${port}`)]);
    } finally {
      process.kill(pid);
    }
  });
});
