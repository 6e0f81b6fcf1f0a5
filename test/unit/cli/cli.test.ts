import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// Each case starts node + tsx a few times: seconds apiece on a loaded 2-core machine.
const SLOW = 60_000;
import type { ResultRecord } from '../../../harness/report/results-store.ts';
import { record } from '../report/fixtures.ts';

const BIN = join(import.meta.dirname, '..', '..', '..', 'bin', 'toa-lab.js');

function toaLab(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function runDir(records: ResultRecord[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'toa-lab-cli-'));
  writeFileSync(join(dir, 'results.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return dir;
}

describe('toa-lab CLI', { timeout: SLOW }, () => {
  it('--help lists the commands; every command has its own --help', () => {
    const help = toaLab('--help');
    expect(help.code).toBe(0);
    for (const command of ['run', 'images', 'report', 'matrix', 'doctor']) {
      expect(help.stdout).toContain(command);
      const own = toaLab(command, '--help');
      expect(own.code).toBe(0);
      expect(own.stdout).toMatch(new RegExp(`usage: toa-lab ${command}`));
    }
  });

  it('exits 2 with a clear message on usage errors, before booting anything', () => {
    expect(toaLab()).toMatchObject({ code: 2 });
    const unknown = toaLab('frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    const image = toaLab('run', '--image', 'centos-5');
    expect(image.code).toBe(2);
    expect(image.stderr).toMatch(/unknown image centos-5; known: microvm-bookworm/);
    const scenario = toaLab('run', '--scenario', 'nope');
    expect(scenario.code).toBe(2);
    expect(scenario.stderr).toMatch(/unknown scenario nope; known: fullnat-toa-v4/);
    expect(toaLab('run', '--shard', '3/2').stderr).toMatch(/--shard wants i\/n/);
    expect(toaLab('run', '--bogus').code).toBe(2);
    const provider = toaLab('run', '--provider', 'xen');
    expect(provider.code).toBe(2);
    expect(provider.stderr).toMatch(/--provider: unknown provider 'xen'; known: qemu, vagrant/);
  });

  it('refuses bad disk images and unconfigured guide rows before anything boots, saying what to do', () => {
    const missing = toaLab('run', '--image-file', '/nonexistent/vendor.qcow2');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--image-file: no such file /nonexistent/vendor.qcow2');
    const row = toaLab('run', '--image', 'centos-7', '--config', '/nonexistent.json');
    expect(row.code).toBe(2);
    expect(row.stderr).toContain('--config: no such file /nonexistent.json');
    const dir = mkdtempSync(join(tmpdir(), 'toa-lab-cli-'));
    const unconfigured = spawnSync(process.execPath, [BIN, 'run', '--image', 'centos-7'], { encoding: 'utf8', timeout: 60_000, cwd: dir });
    expect(unconfigured.status).toBe(2);
    expect(unconfigured.stderr).toContain('centos-7 (CentOS 7) has no image on this machine');
    expect(unconfigured.stderr).toContain('{ "images": { "centos-7": [{ "kind": "local-image", "path": "/srv/images/centos-7.qcow2" }] } }');
    const config = join(dir, 'cfg.json');
    writeFileSync(config, JSON.stringify({ images: { 'centos-7': [{ kind: 'local-image', path: join(dir, 'gone.qcow2') }] } }));
    const gone = toaLab('run', '--image', 'centos-7', '--config', config);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toContain(`centos-7: the configured local-image ${join(dir, 'gone.qcow2')} does not exist`);
    const disk = join(dir, 'disk.qcow2');
    writeFileSync(disk, 'not really');
    const vagrant = toaLab('run', '--image-file', disk, '--provider', 'vagrant');
    expect(vagrant.code).toBe(2);
    expect(vagrant.stderr).toContain('the vagrant provider boots the lab\'s own images only');
    expect(toaLab('run', '--image-file', disk, '--profile', 'beos-5').stderr).toContain("--profile: unknown guide row 'beos-5'");
    const notADisk = toaLab('run', '--image-file', disk);
    expect(notADisk.code).toBe(2);
    expect(notADisk.stderr).toContain(`disk: disk image ${disk} is not usable: not a disk image: no partition table`);
    const real = join(dir, 'real.qcow2');
    spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', real, '16M']);
    writeFileSync(config, JSON.stringify({ images: { 'centos-7': [{ kind: 'local-image', path: real, sha256: '0'.repeat(64) }] } }));
    const mismatch = toaLab('run', '--image', 'centos-7', '--config', config);
    expect(mismatch.code).toBe(2);
    expect(mismatch.stderr).toMatch(new RegExp(`centos-7: ${real}: sha256 [0-9a-f]{64}, but the config says 0{64}`));
  });

  it('refuses a kernel the archive does not know, before booting anything (exit 2)', () => {
    const bad = toaLab('run', '--kernel', 'buster');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown suite 'buster'; known: bullseye/);
  });

  it('prints CI matrices for GitHub Actions and GitLab', () => {
    const github = JSON.parse(toaLab('matrix', '--format', 'github', '--shards', '2').stdout) as { include: Array<{ image: string; shard: string }> };
    expect(github.include).toContainEqual({ image: 'microvm-bookworm', shard: '2/2' });
    expect(github.include).toContainEqual({ image: 'microvm-trixie-backports-7.3', shard: '1/2' });
    expect(github.include).toHaveLength(14); // 3 suites' micro-VMs + 7.2, 7.3, trixie cloud + Debian 12, × 2 shards
    const gitlab = JSON.parse(toaLab('matrix', '--format', 'gitlab').stdout) as { parallel: { matrix: Array<Record<string, string[]>> } };
    expect(gitlab.parallel.matrix[0]!.IMAGE).toContain('microvm-trixie');
    expect(toaLab('matrix', '--format', 'yaml').code).toBe(2);
  });

  it('images list shows every guide row with its source; a vendor config replaces sources, and a bad one is refused', () => {
    const list = toaLab('images', 'list');
    expect(list.code).toBe(0);
    for (const id of ['microvm-bookworm', 'centos-6.8', 'ubuntu-20.04', 'rocky-8.5', 'debian-12']) expect(list.stdout).toContain(id);
    expect(list.stdout).toMatch(/^windows .*NOT run here: no Windows image/m);
    const dir = mkdtempSync(join(tmpdir(), 'toa-lab-config-'));
    const config = join(dir, 'toa-lab.config.json');
    writeFileSync(config, JSON.stringify({ images: { 'centos-7': [{ kind: 'local-image', path: '/srv/images/centos7.qcow2' }] } }));
    expect(toaLab('images', 'list', '--config', config).stdout).toMatch(/^centos-7 .*local image \/srv\/images\/centos7\.qcow2$/m);
    writeFileSync(config, JSON.stringify({ images: { 'centos-77': [{ kind: 'vagrant-box', box: 'x/y' }] } }));
    const bad = toaLab('images', 'list', '--config', config);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown profiles: centos-77/);
  });

  it('report merge writes every report and says whether anything failed', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'toa-lab-merged-')), 'merged');
    const ok = toaLab('report', 'merge', runDir([record('a', 's1')]), runDir([record('b', 's1')]), '--out', out);
    expect(ok.code).toBe(0);
    for (const file of ['results.jsonl', 'report.md', 'report.html', 'junit/a.xml', 'junit/b.xml']) expect(existsSync(join(out, file))).toBe(true);
    expect(readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
    const failing = toaLab('report', 'merge', runDir([record('a', 's1', { passed: false })]), '--out', `${out}-2`);
    expect(failing.code).toBe(1);
    const mixed = toaLab('report', 'merge', runDir([{ ...record('a', 's1'), toaLabVersion: '0.0.1' }]), '--out', `${out}-3`);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toMatch(/written by toa-lab 0\.0\.1/);
  });

  it('report diff names what newly fails and exits 1 for it', () => {
    const before = runDir([record('a', 's1'), record('a', 's2', { passed: false })]);
    const after = runDir([record('a', 's1', { passed: false }), record('a', 's2')]);
    const diff = toaLab('report', 'diff', before, after);
    expect(diff.code).toBe(1);
    expect(diff.stdout).toContain('## Newly failing (1)\n\n- a × s1');
    expect(diff.stdout).toContain('## Newly passing (1)\n\n- a × s2');
    expect(toaLab('report', 'diff', after, after).code).toBe(0);
  });
});
