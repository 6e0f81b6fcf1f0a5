import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHostCommand } from '../../harness/exec/run-host-command.ts';
import { formatStepTable } from '../../harness/lab/full-os-conformance.ts';
import { pushToaSource, runGuideStep } from '../../harness/lab/full-os-procedure.ts';
import { pythonBackend, sendThroughBalancer } from '../../harness/lab/full-os-traffic.ts';
import { RunSession } from '../../harness/lifecycle/run-session.ts';
import { repoRoot } from '../../harness/repo-root.ts';
import type { Check } from '../../harness/core/scenario.ts';
import type { StepResult } from '../../harness/core/step.ts';
import { renderFullOsGuide, type GuideStep } from '../../harness/toa/install-guide-steps.ts';
import { domainExists, reapOrphanedDomains, runVirsh } from '../../harness/vm/vagrant/index.ts';
import { VagrantMachine } from '../../harness/machine/vagrant-machine.ts';
import { removeRunFolders, runToaLab } from '../helpers/toa-lab-run.ts';

// The reports these runs write are read by the tests, then removed.
afterAll(removeRunFolders);

/**
 * The Vagrant provider for real: Debian's vagrant + vagrant-libvirt driving
 * QEMU/TCG through libvirtd, our offline Debian 12 image as a libvirt box,
 * the guest reached through 127.0.0.1 only. Then the FULLNAT TOA check, as
 * under the QEMU provider: toa.ko built and loaded in the guest by the guide's
 * rendered steps, python3 -m http.server's access log names the simulated
 * clients; after rmmod it names the balancer. Then: nothing left behind, and
 * a SIGKILLed run's domain is reaped by the next run.
 *
 * Slow (two `vagrant up` under TCG) and needs root for libvirt: `npm run test:full`.
 * It installs its packages itself (scripts/install-vagrant.sh, opt-in).
 */
const PYTHON_PORT = 80;
const TOA_SOURCE = '/root/toa';
const log = (line: string) => console.log(`[vagrant] ${line}`);

describe('Vagrant provider: Debian 12 box on vagrant-libvirt', () => {
  let session: RunSession;
  let lab: VagrantMachine;
  const steps: StepResult[] = [];
  const guide = renderFullOsGuide('debian-12', {
    toaSourceDir: TOA_SOURCE,
    interfacesDVips: ['192.0.2.100'],
    netplanVips: ['192.0.2.102'],
    pythonPort: PYTHON_PORT,
    nginxPort: 8080,
  });
  const pick = (id: GuideStep['id']) => [...guide.setup, ...guide.backends].filter((s) => s.id === id).slice(0, 1);


  async function step(result: Promise<StepResult>): Promise<StepResult> {
    const done = await result;
    steps.push(done);
    log(`${done.status} ${(done.durationMs / 1000).toFixed(1)} s  ${done.name}: ${done.summary}`);
    expect(done.status, `${done.name}: ${done.summary}\n${done.commands.at(-1)?.stderr ?? ''}`).toBe('passed');
    return done;
  }

  beforeAll(async () => {
    const install = await runHostCommand(join(repoRoot(), 'scripts', 'install-vagrant.sh'), [], { timeoutMs: 600_000, check: false });
    log(`scripts/install-vagrant.sh: ${(install.durationMs / 1000).toFixed(1)} s${install.stdout.trim() ? `\n${install.stdout.trim()}` : ''}`);
    expect(install.exitCode, install.stderr).toBe(0);
    session = await RunSession.open();
    lab = await VagrantMachine.start(session, { image: 'debian-12', log });
  });

  afterAll(async () => {
    console.log(formatStepTable(steps));
    await session?.close();
  });

  it('reaches the guest through 127.0.0.1 only: vagrant ssh-config, no libvirt NIC, eth0 user-mode, eth1 the lab wire', async () => {
    expect(lab.vm.sshConfig.hostName).toBe('127.0.0.1');
    expect(lab.vm.sshConfig.port).toBe(lab.vm.sshPort);
    // libvirt manages no interface of this domain (no bridge, no 192.168.121.0/24 network).
    const ifaces = await runVirsh(['domiflist', lab.vm.domain]);
    expect(ifaces.stdout.trim()).toBe('');
    const addresses = (await lab.guest.check('ip -4 -o addr show')).stdout;
    expect(addresses).toMatch(/eth0\s+inet 10\.0\.2\.15\/24/);
    expect(addresses).toMatch(/eth1\s+inet 192\.0\.2\.10\/24/);
    expect(addresses).not.toMatch(/192\.168\.121\./);
    const links = (await lab.guest.check('cat /sys/class/net/eth0/address /sys/class/net/eth1/address')).stdout.trim().split('\n');
    expect(links).toEqual(['52:54:00:00:00:10', '52:54:00:00:02:0a']);
    // The key came through fw_cfg, as under the QEMU provider.
    expect((await lab.guest.check('cat /proc/cmdline')).stdout.trim()).toBe('console=ttyS0 root=/dev/vda rw net.ifnames=0 mitigations=off loglevel=5');
    log(`timings: box ${(lab.vm.timings.boxMs / 1000).toFixed(1)} s, vagrant up ${(lab.vm.timings.upMs / 1000).toFixed(1)} s`);
  });

  it('builds toa.ko in the guest and loads it (the guide\'s rendered steps)', async () => {
    await step(runGuideStep(lab, pick('toolchain')[0]!));
    await step(pushToaSource(lab, TOA_SOURCE));
    await step(runGuideStep(lab, pick('toa-build')[0]!));
    await step(runGuideStep(lab, pick('toa-load')[0]!));
    expect((await lab.guest.check('grep "^toa " /proc/modules')).stdout).toMatch(/^toa /);
  });

  it("python3 -m http.server's access log names the simulated clients with toa.ko, the balancer after rmmod", async () => {
    const backend = guide.backends[0]!; // the Debian row's backend: python3 -m http.server
    await step(runGuideStep(lab, backend));
    const checks: Check[] = [];
    const withToa = await sendThroughBalancer(lab, pythonBackend(PYTHON_PORT), { connections: 4, toa: {}, expect: 'simulated-clients' });
    log(`access log with toa.ko:\n${withToa.log.map((r) => r.raw).join('\n')}`);
    checks.push(...withToa.checks);
    await lab.guest.check('rmmod toa');
    const without = await sendThroughBalancer(lab, pythonBackend(PYTHON_PORT), { connections: 2, toa: {}, expect: 'balancer' });
    log(`access log without toa.ko:\n${without.log.map((r) => r.raw).join('\n')}`);
    checks.push(...without.checks);
    expect(checks.filter((c) => !c.passed)).toEqual([]);
    expect(checks).toHaveLength(4);
    expect(withToa.log.map((r) => r.clientIp)).toEqual(withToa.connections.map((c) => c.injectedClient?.address));
    expect(new Set(without.log.map((r) => r.clientIp))).toEqual(new Set([lab.balancerAddress]));
  });

  it('leaves nothing behind: vagrant destroy removes the domain, its volume and its QEMU', async () => {
    const { domain, dir } = lab.vm;
    await session.close();
    expect(await domainExists(domain)).toBe(false);
    expect((await runVirsh(['vol-list', 'default'])).stdout).not.toContain(`${domain}.img`);
    expect(processesMentioning(dir)).toEqual([]);
    log(`vagrant destroy took ${((lab.vm.timings.destroyMs ?? NaN) / 1000).toFixed(1)} s`);
  });

  it("the next run reaps a SIGKILLed run's domain (owner recorded in libvirt and the run folder)", async () => {
    // A separate harness process boots a guest and is SIGKILLed once it is up: no cleanup runs.
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', KILLED_RUN_SCRIPT],
      { cwd: repoRoot(), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    const up = new Promise<{ domain: string; dir: string }>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
        const match = /^UP (\S+) (\S+)$/m.exec(out);
        if (match) resolve({ domain: match[1]!, dir: match[2]! });
      });
      child.on('exit', (code) => reject(new Error(`the child run exited (${code}) before its guest was up:\n${out}`)));
    });
    const { domain, dir } = await up;
    expect(readFileSync(join(dir, 'libvirt-domain'), 'utf8').trim()).toBe(domain);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(await domainExists(domain)).toBe(true); // the killed run could not clean up

    // The next run: opening a session reaps the dead session's folder (and kills its QEMU through
    // qemu.pid); the Vagrant provider's reaper removes the libvirt domain and its volume.
    const next = await RunSession.open();
    try {
      const reaped = await reapOrphanedDomains(log);
      expect(reaped.map((r) => r.name)).toContain(domain);
      expect(await domainExists(domain)).toBe(false);
      expect((await runVirsh(['vol-list', 'default'])).stdout).not.toContain(`${domain}.img`);
      expect(processesMentioning(dir)).toEqual([]);
    } finally {
      await next.close();
    }
  });
});

describe('Vagrant provider: the conformance set through the CLI', () => {
  it("toa-lab run --provider vagrant: the guides' whole procedure with its reboot, then data-path scenarios, all pass", () => {
    const scenarios = 'guide-procedure,reboot-persistence,fullnat-toa-v4,fullnat-no-toa,dsr-vip,malformed-options';
    const run = runToaLab(['--provider', 'vagrant', '--image', 'debian-12', '--scenario', scenarios], { timeoutMs: 1_500_000 });
    expect(run.code, run.stdout.slice(-4000)).toBe(0);
    expect(run.records.map((r) => r.outcome.scenario)).toEqual(scenarios.split(','));
    expect(run.report).toContain('provider vagrant');
  });
});

/** The killed run: boots a Vagrant guest, prints its domain and folder, then waits to be killed. */
const KILLED_RUN_SCRIPT = `
import { RunSession } from './harness/lifecycle/run-session.ts';
import { VagrantVm } from './harness/vm/vagrant/vagrant-vm.ts';
import { ensureDebianImage } from './harness/images/debian/build-debian-image.ts';
import { generateSshKeyPair, writeSshKeyPair } from './harness/remote/ssh-key-pair.ts';
const session = await RunSession.open();
const image = await ensureDebianImage('debian-12');
const key = generateSshKeyPair('killed run');
const files = await writeSshKeyPair(await session.subdir('ssh'), key);
const vm = await VagrantVm.start({ image, session, authorizedKey: key.publicLine, privateKeyFile: files.privateKey,
  log: (line) => process.stderr.write('[killed run] ' + line + '\\n') });
console.log('UP ' + vm.domain + ' ' + vm.dir);
setInterval(() => {}, 60_000);
`;

/** Live processes whose command line names `text` (QEMU's names its run folder). */
function processesMentioning(text: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      const path = `/proc/${pid}/cmdline`;
      try {
        return existsSync(path) && readFileSync(path, 'utf8').includes(text);
      } catch {
        return false;
      }
    })
    .map(Number);
}
