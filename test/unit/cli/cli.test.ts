import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// Each case starts node + tsx a few times: seconds apiece on a loaded 2-core machine.
const SLOW = 60_000;
import type { ResultRecord } from '../../../harness/report/results-store.ts';
import { record } from '../report/fixtures.ts';

const BIN = join(import.meta.dirname, '..', '..', '..', 'bin', 'toa-lab.js');

/** `toa-lab ...` as a child process; async, so the cases of this file run side by side. */
function toaLab(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return toaLabWith({}, ...args);
}

function toaLabWith(env: Record<string, string>, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function runDir(records: ResultRecord[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'toa-lab-cli-'));
  writeFileSync(join(dir, 'results.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return dir;
}

describe('toa-lab CLI', { timeout: SLOW }, () => {
  it('--help lists the commands; every command has its own --help', async () => {
    const help = await toaLab('--help');
    expect(help.code).toBe(0);
    for (const command of ['run', 'list', 'images', 'report', 'matrix', 'cache', 'doctor']) {
      expect(help.stdout).toContain(command);
      const own = await toaLab(command, '--help');
      expect(own.code).toBe(0);
      expect(own.stdout).toMatch(new RegExp(`usage: toa-lab ${command}`));
    }
  });

  it('exits 2 with a clear message on usage errors, before booting anything', async () => {
    expect((await toaLab())).toMatchObject({ code: 2 });
    const unknown = await toaLab('frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    const image = await toaLab('run', '--image', 'centos-5');
    expect(image.code).toBe(2);
    expect(image.stderr).toMatch(/unknown image centos-5; known: microvm-bookworm/);
    const scenario = await toaLab('run', '--scenario', 'nope');
    expect(scenario.code).toBe(2);
    expect(scenario.stderr).toMatch(/unknown scenario nope; known: fullnat-toa-v4/);
    expect((await toaLab('run', '--shard', '3/2')).stderr).toMatch(/--shard wants i\/n/);
    expect((await toaLab('run', '--bogus')).code).toBe(2);
    const provider = await toaLab('run', '--provider', 'xen');
    expect(provider.code).toBe(2);
    expect(provider.stderr).toMatch(/--provider: unknown provider 'xen'; known: qemu, vagrant/);
  });

  it('refuses bad disk images and unconfigured guide rows before anything boots, saying what to do', async () => {
    const missing = await toaLab('run', '--image-file', '/nonexistent/vendor.qcow2');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--image-file: no such file /nonexistent/vendor.qcow2');
    const row = await toaLab('run', '--image', 'centos-7', '--config', '/nonexistent.json');
    expect(row.code).toBe(2);
    expect(row.stderr).toContain('--config: no such file /nonexistent.json');
    const dir = mkdtempSync(join(tmpdir(), 'toa-lab-cli-'));
    const unconfigured = spawnSync(process.execPath, [BIN, 'run', '--image', 'centos-7'], { encoding: 'utf8', timeout: 60_000, cwd: dir });
    expect(unconfigured.status).toBe(2); // run from a folder without toa-lab.config.json
    expect(unconfigured.stderr).toContain('centos-7 (CentOS 7) has no image on this machine');
    expect(unconfigured.stderr).toContain('{ "images": { "centos-7": [{ "kind": "local-image", "path": "/srv/images/centos-7.qcow2" }] } }');
    const config = join(dir, 'cfg.json');
    writeFileSync(config, JSON.stringify({ images: { 'centos-7': [{ kind: 'local-image', path: join(dir, 'gone.qcow2') }] } }));
    const gone = await toaLab('run', '--image', 'centos-7', '--config', config);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toContain(`centos-7: the configured local-image ${join(dir, 'gone.qcow2')} does not exist`);
    const disk = join(dir, 'disk.qcow2');
    writeFileSync(disk, 'not really');
    const vagrant = await toaLab('run', '--image-file', disk, '--provider', 'vagrant');
    expect(vagrant.code).toBe(2);
    expect(vagrant.stderr).toContain('the vagrant provider boots the lab\'s images and Vagrant boxes; disk is a disk file: use --provider qemu');
    expect((await toaLab('run', '--image-file', disk, '--profile', 'beos-5')).stderr).toContain("--profile: unknown guide row 'beos-5'");
    const notADisk = await toaLab('run', '--image-file', disk);
    expect(notADisk.code).toBe(2);
    expect(notADisk.stderr).toContain(`disk: disk image ${disk} is not usable: not a disk image: no partition table`);
    const real = join(dir, 'real.qcow2');
    spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', real, '16M']);
    writeFileSync(config, JSON.stringify({ images: { 'centos-7': [{ kind: 'local-image', path: real, sha256: '0'.repeat(64) }] } }));
    const mismatch = await toaLab('run', '--image', 'centos-7', '--config', config);
    expect(mismatch.code).toBe(2);
    expect(mismatch.stderr).toMatch(new RegExp(`centos-7: ${real}: sha256 [0-9a-f]{64}, but the config says 0{64}`));
  });

  it('refuses a kernel the archive does not know, before booting anything (exit 2)', async () => {
    const bad = await toaLab('run', '--kernel', 'buster');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown suite 'buster'; known: bullseye/);
  });

  it('--version is package.json\'s; names that do not exist are usage errors before anything is resolved or built', async () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
    expect((await toaLab('--version'))).toMatchObject({ code: 0, stdout: `toa-lab ${pkg.version}\n` });
    const build = await toaLab('images', 'build', 'nope');
    expect(build.code).toBe(2);
    expect(build.stderr).toMatch(/unknown image nope; known: microvm-bookworm/);
    const out = join(mkdtempSync(join(tmpdir(), 'toa-lab-nosource-')), 'out');
    const started = Date.now();
    const source = await toaLab('run', '--toa-source', '/nonexistent/toa', '--out', out);
    expect(source.code).toBe(2);
    expect(source.stderr).toContain('--toa-source: no such directory or tarball: /nonexistent/toa');
    expect(existsSync(out)).toBe(false); // nothing was started, not even the results file
    expect(Date.now() - started).toBeLessThan(45_000); // resolving kernels would take minutes
  });

  it('list prints the cells a run would execute; GitLab\'s CI_NODE_* shard it unless --shard is given', async () => {
    const all = JSON.parse((await toaLab('list', '--json')).stdout) as { planVersion: number; cells: Array<{ id: string; scenarios: string[] }> };
    expect(all.planVersion).toBe(1);
    expect(all.cells.map((c) => c.id)).toEqual(['microvm-bookworm', 'microvm-bullseye', 'microvm-trixie', 'microvm-trixie-backports-7.2', 'microvm-trixie-backports-7.3', 'microvm-trixie-cloud', 'debian-12']);
    const pairs = (plan: typeof all): number => plan.cells.reduce((sum, c) => sum + c.scenarios.length, 0);
    const gitlab = JSON.parse((await toaLabWith({ CI_NODE_INDEX: '2', CI_NODE_TOTAL: '2' }, 'list', '--json')).stdout) as typeof all;
    expect(pairs(gitlab)).toBe(Math.floor(pairs(all) / 2));
    const explicit = JSON.parse((await toaLabWith({ CI_NODE_INDEX: '2', CI_NODE_TOTAL: '2' }, 'list', '--json', '--shard', '1/1')).stdout) as typeof all;
    expect(pairs(explicit)).toBe(pairs(all));
    const text = await toaLab('list', '--image', 'microvm-trixie', '--scenario', 'load,udp');
    expect(text.stdout).toMatch(/^microvm-trixie\s+micro\s+udp load$/m);
    const matrix = await toaLab('list', '--image', 'microvm-trixie,debian-12', '--scenario', 'load', '--toa-source', 'ours', '--toa-ko', 'vendor=/srv/toa.ko');
    expect(matrix.stdout).toMatch(/^microvm-trixie\+vendor\s+micro\s+vendor\s+load$/m);
    expect(matrix.stdout).toContain('# not run: debian-12 × vendor: a prebuilt .ko is for micro-VMs');
    expect(matrix.stdout).toContain('# 3 cells (2 images × 2 modules: toa-lab, vendor), 3 cell × scenario pairs');
    expect((await toaLab('list', '--toa-source', '/a/toa', '--toa-source', '/b/toa')).stderr).toMatch(/two modules are named 'toa'/);
    expect((await toaLab('run', '--help')).stdout).toMatch(/CI_NODE_INDEX\/CI_NODE_TOTAL[\s\S]*explicit --shard wins/);
  });

  it('prints CI matrices for GitHub Actions and GitLab', async () => {
    const github = JSON.parse((await toaLab('matrix', '--format', 'github', '--shards', '2')).stdout) as { include: Array<{ image: string; shard: string }> };
    expect(github.include).toContainEqual({ image: 'microvm-bookworm', args: '--image microvm-bookworm', shard: '2/2' });
    expect(github.include).toContainEqual({ image: 'microvm-trixie-backports-7.3', args: '--image microvm-trixie-backports-7.3', shard: '1/2' });
    expect(github.include).toHaveLength(14); // 3 suites' micro-VMs + 7.2, 7.3, trixie cloud + Debian 12, × 2 shards
    const gitlab = JSON.parse((await toaLab('matrix', '--format', 'gitlab')).stdout) as { parallel: { matrix: Array<Record<string, string[]>> } };
    expect(gitlab.parallel.matrix[0]!.IMAGE).toContain('microvm-trixie');
    expect((await toaLab('matrix', '--format', 'yaml')).code).toBe(2);
    const one = JSON.parse((await toaLab('matrix', '--image', 'microvm-trixie,debian-12', '--shards', '2', '--format', 'json')).stdout) as {
      cells: Array<{ id: string }>;
      jobs: unknown[];
    };
    expect(one.cells.map((c) => c.id)).toEqual(['microvm-trixie', 'debian-12']);
    expect(one.jobs).toContainEqual({ image: 'debian-12', args: '--image debian-12', shard: '2/2' });
    // A kernel cell's job selects it with --kernel (the archive is asked, as run does).
    const kernel = JSON.parse((await toaLab('matrix', '--kernel', 'bookworm:cloud', '--format', 'json')).stdout) as { jobs: Array<{ image: string; args: string }> };
    expect(kernel.jobs).toEqual([{ image: 'microvm-bookworm-cloud', args: '--kernel bookworm:cloud', shard: '1/1' }]);
    expect((await toaLab('matrix', '--image', 'nope')).code).toBe(2);
    // Modules × kernels: a job per image and shard carrying every module flag, and the modules it runs.
    const modules = JSON.parse(
      (await toaLab('matrix', '--image', 'microvm-trixie', '--toa-source', 'ours', '--toa-source', 'huawei=/srv/huawei', '--format', 'json')).stdout,
    ) as { cells: Array<{ id: string; module: string }>; jobs: unknown[] };
    expect(modules.cells.map((c) => [c.id, c.module])).toEqual([['microvm-trixie+toa-lab', 'toa-lab'], ['microvm-trixie+huawei', 'huawei']]);
    expect(modules.jobs).toEqual([{ image: 'microvm-trixie', args: '--image microvm-trixie --toa-source ours --toa-source huawei=/srv/huawei', modules: 'toa-lab,huawei', shard: '1/1' }]);
    const config = join(mkdtempSync(join(tmpdir(), 'toa-lab-matrix-config-')), 'c.json');
    writeFileSync(config, JSON.stringify({ images: { 'centos-7': [{ kind: 'local-image', path: '/srv/c7.qcow2' }] } }));
    expect((await toaLab('matrix', '--config', config)).code).toBe(0);
    writeFileSync(config, '{ not json');
    expect((await toaLab('matrix', '--config', config)).code).toBe(2);
  });

  it('images list shows every guide row with its source; a vendor config replaces sources, and a bad one is refused', async () => {
    const list = await toaLab('images', 'list');
    expect(list.code).toBe(0);
    for (const id of ['microvm-bookworm', 'centos-6.8', 'ubuntu-20.04', 'rocky-8.5', 'debian-12']) expect(list.stdout).toContain(id);
    expect(list.stdout).toMatch(/^windows .*NOT run here: no Windows image/m);
    // Each box with the providers it is published for; the ones vagrant-libvirt cannot use, marked.
    expect(list.stdout).toMatch(/^ubuntu-20\.04 .*vagrant box generic\/ubuntu2004 \[libvirt, .*\| vagrant box ubuntu\/focal64 \[virtualbox only: .* NOT usable by the lab's vagrant-libvirt\]/m);
    // The end-of-life rows' archives, with what was (not) run here.
    expect(list.stdout).toMatch(/^centos-8 .*\n +repositories: archive http:\/\/vault\.centos\.org\/8\.5\.2111: .* a step before the toolchain points dnf there .*rendered and checked statically, NOT run on CentOS 8 here$/m);
    const dir = mkdtempSync(join(tmpdir(), 'toa-lab-config-'));
    const config = join(dir, 'toa-lab.config.json');
    writeFileSync(config, JSON.stringify({ images: { 'centos-7': [{ kind: 'local-image', path: '/srv/images/centos7.qcow2' }] } }));
    expect((await toaLab('images', 'list', '--config', config)).stdout).toMatch(/^centos-7 .*local image \/srv\/images\/centos7\.qcow2$/m);
    writeFileSync(config, JSON.stringify({ repositories: { 'debian-8.2': { archive: 'http://mirror.example/debian-archive' } } }));
    expect((await toaLab('images', 'list', '--config', config)).stdout).toMatch(/^ +repositories: archive http:\/\/mirror\.example\/debian-archive: as the config says/m);
    writeFileSync(config, JSON.stringify({ images: { 'centos-77': [{ kind: 'vagrant-box', box: 'x/y' }] } }));
    const bad = await toaLab('images', 'list', '--config', config);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown profiles: centos-77/);
  });

  it('report merge writes every report and says whether anything failed', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'toa-lab-merged-')), 'merged');
    const ok = await toaLab('report', 'merge', runDir([record('a', 's1')]), runDir([record('b', 's1')]), '--out', out);
    expect(ok.code).toBe(0);
    for (const file of ['results.jsonl', 'report.md', 'report.html', 'junit/a.xml', 'junit/b.xml']) expect(existsSync(join(out, file))).toBe(true);
    expect(readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
    const failing = await toaLab('report', 'merge', runDir([record('a', 's1', { passed: false })]), '--out', `${out}-2`);
    expect(failing.code).toBe(1);
    const mixed = await toaLab('report', 'merge', runDir([{ ...record('a', 's1'), toaLabVersion: '0.0.1' }]), '--out', `${out}-3`);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toMatch(/written by toa-lab 0\.0\.1/);
  });

  it('report merge --expect exits 1 naming what a lost shard did not report, and 0 on complete shards', async () => {
    const base = mkdtempSync(join(tmpdir(), 'toa-lab-expect-'));
    const plan = join(base, 'plan.json');
    writeFileSync(plan, JSON.stringify({ planVersion: 1, cells: [{ id: 'a', image: 'a', kind: 'micro', scenarios: ['s1'] }, { id: 'b', image: 'b', kind: 'micro', scenarios: ['s1'] }] }));
    const shardA = runDir([record('a', 's1')]);
    const lost = await toaLab('report', 'merge', shardA, join(base, 'never-uploaded'), '--expect', plan, '--out', join(base, 'm1'));
    expect(lost.code).toBe(1);
    expect(lost.stderr).toContain('cell b: missing (1 scenarios planned, none reported)');
    expect((await toaLab('report', 'merge', shardA, '--expect', '2', '--out', join(base, 'm2'))).stderr).toContain('expected 2 cells, found 1: a');
    const whole = await toaLab('report', 'merge', shardA, runDir([record('b', 's1')]), '--expect', plan, '--out', join(base, 'm3'));
    expect(whole.code).toBe(0);
    expect(whole.stderr).toBe('');
    expect((await toaLab('report', 'merge', shardA, '--expect', 'nonsense')).code).toBe(2);
  });

  it('run --rerun-failed of a run where everything passed boots nothing, and its results.jsonl starts with the (empty) plan', async () => {
    const before = runDir([record('microvm-trixie', 'udp')]);
    const out = join(mkdtempSync(join(tmpdir(), 'toa-lab-rerun-')), 'out');
    const rerun = await toaLab('run', '--rerun-failed', before, '--out', out);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stdout).toContain('1..0');
    const first = JSON.parse(readFileSync(join(out, 'results.jsonl'), 'utf8').split('\n')[0]!) as { kind: string; cells: unknown[] };
    expect(first).toMatchObject({ kind: 'plan', cells: [] });
    const failedBefore = runDir([record('microvm-trixie', 'udp', { passed: false })]);
    const listed = JSON.parse((await toaLab('list', '--json', '--rerun-failed', failedBefore)).stdout) as { cells: Array<{ id: string; scenarios: string[] }> };
    expect(listed.cells).toEqual([{ id: 'microvm-trixie', image: 'microvm-trixie', kind: 'micro', scenarios: ['udp'] }]);
  });

  it('report diff names what newly fails and exits 1 for it', async () => {
    const before = runDir([record('a', 's1'), record('a', 's2', { passed: false })]);
    const after = runDir([record('a', 's1', { passed: false }), record('a', 's2')]);
    const diff = await toaLab('report', 'diff', before, after);
    expect(diff.code).toBe(1);
    expect(diff.stdout).toContain('## Newly failing (1)\n\n- a × s1');
    expect(diff.stdout).toContain('## Newly passing (1)\n\n- a × s2');
    expect((await toaLab('report', 'diff', after, after)).code).toBe(0);
  });
});
