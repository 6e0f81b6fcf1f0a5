import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mainKernelBuildPockets, mainKernelMmdebstrapArgs } from '../../../harness/kernel-upgrade/main-kernel-image.ts';
import { describeObservation, parseDkmsStatus, parseInstalledModules, type ModuleObservation } from '../../../harness/kernel-upgrade/module-observation.ts';
import { renderKernelUpgradeScript, sourcesListHosts } from '../../../harness/kernel-upgrade/upgrade-scripts.ts';
import { installedSystemSources } from '../../../harness/kernels/debian-suite.ts';
import { parseKernelUpgradeArgs } from '../../../harness/cli/kernel-upgrade-command.ts';
import { UsageError } from '../../../harness/core/usage-error.ts';
import type { KernelUpgradeRun } from '../../../harness/kernel-upgrade/kernel-upgrade-case.ts';
import { formatKernelUpgradeRun, kernelUpgradeHeld } from '../../../harness/kernel-upgrade/kernel-upgrade-report.ts';

const hasShellcheck = spawnSync('shellcheck', ['--version']).status === 0;
const REQUEST = { pocket: 'bookworm-security', version: '6.1.192-3', release: '6.1.0-57-amd64' };

describe('the kernel upgrade script (guest side)', () => {
  const script = renderKernelUpgradeScript(REQUEST);
  const dir = mkdtempSync(join(tmpdir(), 'toa-lab-kupgrade-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is valid sh, shellcheck-clean where shellcheck is installed', () => {
    expect(spawnSync('sh', ['-n'], { input: script, encoding: 'utf8' }).status).toBe(0);
    if (!hasShellcheck) return;
    writeFileSync(join(dir, 'kernel-upgrade.sh'), script);
    const sh = spawnSync('shellcheck', ['--shell=sh', '--format=gcc', join(dir, 'kernel-upgrade.sh')], { encoding: 'utf8' });
    expect(sh.stdout + sh.stderr).toBe('');
  });

  it('upgrades exactly the metapackages to the pocket\'s version and checks what the upgrade must leave', () => {
    expect(script).toContain('"linux-image-amd64=$version" "linux-headers-amd64=$version"');
    expect(script).toContain("version=6.1.192-3");
    expect(script).toContain('/boot/vmlinuz-$release');
    expect(script).toContain('/lib/modules/$release/build/Makefile');
    expect(script).toContain('grep -q "vmlinuz-$release" /boot/grub/grub.cfg');
  });

  it('refuses words that are not package words (they go into a root shell)', () => {
    expect(() => renderKernelUpgradeScript({ ...REQUEST, version: '6.1; rm -rf /' })).toThrow(/version '6.1; rm -rf \/' is not a package word/);
    expect(() => renderKernelUpgradeScript({ ...REQUEST, pocket: '' })).toThrow(/pocket '' is not a package word/);
  });

  // The pocket check runs for real here, on sources.list files like the guest's.
  it('fails with the precondition code when no source names the pocket, and passes it when one does', () => {
    const check = script.split('\n');
    const from = check.findIndex((l) => l.startsWith('found=no'));
    const to = check.findIndex((l) => l.includes('nothing to upgrade from'));
    const probe = (list: string) => {
      const file = join(dir, 'sources.list');
      writeFileSync(file, list);
      const body = ['set -eu', 'die() { code=$1; shift; echo "toa-lab: $*" >&2; exit "$code"; }', 'pocket=bookworm-security', ...check.slice(from, to + 1)]
        .join('\n')
        .replaceAll('/etc/apt/sources.list.d/*.list', join(dir, 'none', '*.list'))
        .replaceAll('/etc/apt/sources.list', file);
      return spawnSync('sh', ['-c', body], { encoding: 'utf8' });
    };
    expect(probe(`${installedSystemSources('bookworm').join('\n')}\n`).status).toBe(0);
    const missing = probe('deb http://deb.debian.org/debian bookworm main\n# deb http://deb.debian.org/debian-security bookworm-security main\n');
    expect(missing.status).toBe(4);
    expect(missing.stderr).toContain('no apt source names bookworm-security');
  });
});

describe("the image on bookworm main's kernel", () => {
  const args = mainKernelMmdebstrapArgs({
    packages: ['linux-image-amd64', 'linux-headers-amd64'],
    rootfs: '/cache/x/rootfs',
    debCacheDir: '/cache/debs/bookworm',
    imageFilesDir: '/repo/images/debian-base',
    sourcesList: installedSystemSources('bookworm'),
  });

  it('is built from the release and its -updates, never the security pocket', () => {
    expect(mainKernelBuildPockets()).toEqual(['deb http://deb.debian.org/debian bookworm main', 'deb http://deb.debian.org/debian bookworm-updates main']);
    expect(args.slice(-4)).toEqual(['bookworm', '/cache/x/rootfs', 'http://deb.debian.org/debian', 'deb http://deb.debian.org/debian bookworm-updates main']);
    expect(args.filter((a) => !a.startsWith('--customize-hook=')).join(' ')).not.toContain('security');
  });

  it('writes the installed system\'s sources.list (security pocket included) before the lab\'s files and customize.sh', () => {
    const hooks = args.filter((a) => a.startsWith('--customize-hook='));
    const sources = hooks.findIndex((h) => h.includes('/etc/apt/sources.list'));
    expect(hooks[sources]).toBe(
      `--customize-hook=printf '%s\\n' 'deb http://deb.debian.org/debian bookworm main' 'deb http://deb.debian.org/debian bookworm-updates main' 'deb http://deb.debian.org/debian-security bookworm-security main' > "$1"/etc/apt/sources.list`,
    );
    expect(sources).toBeLessThan(hooks.findIndex((h) => h.includes('customize.sh')));
    expect(hooks.at(-1)).toBe(`--customize-hook=sh '/repo/images/debian-base/customize.sh' "$1" 'debian-12-main'`);
    // The hook as sh runs it writes exactly those lines.
    const dir = mkdtempSync(join(tmpdir(), 'toa-lab-kupgrade-root-'));
    try {
      spawnSync('mkdir', ['-p', join(dir, 'etc/apt')]);
      const run = spawnSync('sh', ['-c', hooks[sources]!.slice('--customize-hook='.length), 'hook', dir], { encoding: 'utf8' });
      expect(run.status, run.stderr).toBe(0);
      expect(spawnSync('cat', [join(dir, 'etc/apt/sources.list')], { encoding: 'utf8' }).stdout).toBe(`${installedSystemSources('bookworm').join('\n')}\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("lets the guest reach only the hosts its sources.list names", () => {
    expect(sourcesListHosts(`${installedSystemSources('bookworm').join('\n')}\n`)).toEqual(['deb.debian.org']);
    expect(sourcesListHosts('deb [signed-by=/k.gpg] http://mirror.example/debian bookworm main\n# deb http://other.example/x y\n')).toEqual(['mirror.example']);
    expect(() => sourcesListHosts('deb file:/srv/debian bookworm main\n')).toThrow(/no http\(s\) URI/);
    expect(() => sourcesListHosts('# nothing\n')).toThrow(/names no repository/);
  });
});

describe('what the guest shows about toa (parsers)', () => {
  it('reads dkms 3 status lines', () => {
    const text = 'toa/1.0, 6.1.0-50-amd64, x86_64: installed\ntoa/1.0, 6.1.0-57-amd64, x86_64: installed (WARNING! Diff between built and installed module!)\nError! something\n';
    expect(parseDkmsStatus(text)).toEqual([
      { module: 'toa', version: '1.0', release: '6.1.0-50-amd64', arch: 'x86_64', state: 'installed' },
      { module: 'toa', version: '1.0', release: '6.1.0-57-amd64', arch: 'x86_64', state: 'installed' },
    ]);
    expect(parseDkmsStatus('')).toEqual([]);
  });

  it('names the kernel each installed toa.ko belongs to by its /lib/modules folder', () => {
    expect(parseInstalledModules('/lib/modules/6.1.0-50-amd64/extra/toa.ko\n/lib/modules/6.1.0-57-amd64/updates/dkms/toa.ko\n/root/toa/toa.ko\n')).toEqual([
      { release: '6.1.0-50-amd64', path: '/lib/modules/6.1.0-50-amd64/extra/toa.ko' },
      { release: '6.1.0-57-amd64', path: '/lib/modules/6.1.0-57-amd64/updates/dkms/toa.ko' },
    ]);
  });

  it('summarises an observation in one line, the guest\'s own words quoted', () => {
    const o: ModuleObservation = {
      release: '6.1.0-57-amd64',
      toaLoaded: false,
      modulesLoadState: 'failed',
      modulesLoadJournal: ["systemd-modules-load[201]: Failed to find module 'toa'"],
      modprobe: { exitCode: 1, stderr: 'modprobe: FATAL: Module toa not found in directory /lib/modules/6.1.0-57-amd64' },
      installed: [{ release: '6.1.0-50-amd64', path: '/lib/modules/6.1.0-50-amd64/extra/toa.ko' }],
      guideModule: { path: '/root/toa/toa.ko', builtFor: '6.1.0-50-amd64', insmod: { exitCode: 1, stderr: 'insmod: ERROR: could not insert module /root/toa/toa.ko: Invalid module format', kernelSays: ['toa: disagrees about version of symbol module_layout'] } },
      dkms: [],
      dmesgToa: [],
    };
    expect(describeObservation(o)).toBe(
      'uname -r 6.1.0-57-amd64; toa NOT loaded; systemd-modules-load failed; toa.ko installed for 6.1.0-50-amd64; ' +
        'modprobe toa: exit 1 "modprobe: FATAL: Module toa not found in directory /lib/modules/6.1.0-57-amd64"; ' +
        'insmod /root/toa/toa.ko (built for 6.1.0-50-amd64): exit 1 "insmod: ERROR: could not insert module /root/toa/toa.ko: Invalid module format"; kernel: "toa: disagrees about version of symbol module_layout"',
    );
  });
});

describe('toa-lab kernel-upgrade (arguments)', () => {
  it('runs both remedies by default, or the one named; refuses others before building anything', () => {
    expect(parseKernelUpgradeArgs([]).remedies).toEqual(['rebuild', 'dkms']);
    expect(parseKernelUpgradeArgs(['--remedy', 'dkms', '--out', '/tmp/x'])).toEqual({ remedies: ['dkms'], out: '/tmp/x' });
    expect(() => parseKernelUpgradeArgs(['--remedy', 'reinstall'])).toThrow(UsageError);
    expect(() => parseKernelUpgradeArgs(['--remedy', 'reinstall'])).toThrow(/unknown remedy 'reinstall'; known: rebuild, dkms, both/);
    expect(() => parseKernelUpgradeArgs(['debian-12'])).toThrow(/unexpected argument 'debian-12'/);
    expect(() => parseKernelUpgradeArgs(['--kernel', 'sid'])).toThrow(/Unknown option '--kernel'/);
  });
});

describe('the kernel-upgrade report', () => {
  const run: KernelUpgradeRun = {
    remedy: 'dkms',
    from: { release: '6.1.0-50-amd64', version: '6.1.176-1' },
    to: { release: '6.1.0-57-amd64', version: '6.1.192-3', pocket: 'bookworm-security' },
    steps: [{ name: 'kernel upgrade', kind: 'kernel-upgrade', status: 'passed', durationMs: 61_000, summary: 'installed', commands: [] }],
    checks: [{ name: 'after the upgrade: toa loaded at boot', passed: true, expected: 'loaded', observed: 'loaded' }],
    completed: true,
  };

  it('holds only when every step passed and every check held', () => {
    expect(kernelUpgradeHeld(run)).toBe(true);
    expect(kernelUpgradeHeld({ ...run, completed: false })).toBe(false);
    expect(kernelUpgradeHeld({ ...run, checks: [{ ...run.checks[0]!, passed: false }] })).toBe(false);
  });

  it('names the kernels, the steps and the checks', () => {
    const text = formatKernelUpgradeRun(run);
    expect(text).toContain('## kernel upgrade, remedy: dkms — held');
    expect(text).toContain('6.1.0-50-amd64 (6.1.176-1) → 6.1.0-57-amd64 (6.1.192-3, bookworm-security)');
    expect(text).toContain('| passed | 61.0 s | kernel upgrade | installed |');
    expect(text).toContain('- ok after the upgrade: toa loaded at boot: loaded');
  });
});
