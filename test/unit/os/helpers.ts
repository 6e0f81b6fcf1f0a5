import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OsProfile, ProcedureOptions, ProcedureStep, RepositoryMirror, VipMethodName } from '../../../harness/os/index.ts';
import { renderProcedure } from '../../../harness/os/index.ts';

export const VIPS = ['192.0.2.100', '192.0.2.101'] as const;

/** A user's live mirror, as the golden files render it (`.example`: a reserved name). */
export const SAMPLE_MIRROR: RepositoryMirror = { kind: 'mirror', url: 'http://mirror.example/repo', securityUrl: 'http://mirror.example/repo-security' };

/** The options every golden file is rendered with. */
export function canonicalOptions(overrides: Partial<ProcedureOptions> = {}): ProcedureOptions {
  return {
    toaSourceDir: '/root/toa',
    vips: [...VIPS],
    backend: { port: 80, kind: 'python', accessLog: '/var/log/toa-lab/backend-access.log' },
    ...overrides,
  };
}

export function stepOf(steps: readonly ProcedureStep[], id: ProcedureStep['id']): ProcedureStep {
  const step = steps.find((s) => s.id === id);
  if (!step) throw new Error(`no step ${id}`);
  return step;
}

/**
 * Every rendering worth pinning for a profile, by golden-file stem:
 * - `<step>`: the default procedure;
 * - `vip.<method>`, `vip.<method>.cloud-init`: each VIP method the profile supports (the
 *   default one's files form is `vip`), in each form the guide has;
 * - `vip.dsr-arp`, `autoload.dkms` (systemd, out-of-tree), `backend.nginx`;
 * - `repositories.mirror`: rows without a mirror or archive of their own, given SAMPLE_MIRROR
 *   (the end-of-life rows' own step is in their default procedure).
 */
export function renderVariants(profile: OsProfile): Map<string, ProcedureStep> {
  const variants = new Map<string, ProcedureStep>();
  for (const step of renderProcedure(profile, canonicalOptions())) variants.set(step.id, step);
  for (const [index, { method }] of profile.vip.entries()) {
    for (const form of vipForms(method)) {
      if (index === 0 && form === 'files') continue;
      const stem = form === 'files' ? `vip.${method}` : `vip.${method}.cloud-init`;
      variants.set(stem, stepOf(renderProcedure(profile, canonicalOptions({ vipMethod: method, vipForm: form })), 'vip'));
    }
  }
  variants.set('vip.dsr-arp', stepOf(renderProcedure(profile, canonicalOptions({ dsrArp: true })), 'vip'));
  if (supportsDkms(profile)) {
    variants.set('autoload.dkms', stepOf(renderProcedure(profile, canonicalOptions({ autoload: 'dkms' })), 'autoload'));
  }
  // Rows without a mirror of their own: the form a user's config gives them (a live mirror).
  if (!profile.repositories) {
    variants.set('repositories.mirror', stepOf(renderProcedure({ ...profile, repositories: SAMPLE_MIRROR }, canonicalOptions()), 'repositories'));
  }
  const nginx = canonicalOptions({ backend: { port: 8080, kind: 'nginx', accessLog: '/var/log/toa-lab/nginx-access.log' } });
  variants.set('backend.nginx', stepOf(renderProcedure(profile, nginx), 'backend'));
  return variants;
}

export function vipForms(method: VipMethodName): Array<'files' | 'cloud-init'> {
  return method === 'ip-addr' ? ['files'] : ['files', 'cloud-init'];
}

export function supportsDkms(profile: OsProfile): boolean {
  return profile.init === 'systemd' && profile.toaInstall === 'out-of-tree';
}

export interface ScriptRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Lines the fake tools appended to calls.log: `<tool> <args…>`. */
  calls: string[];
}

/**
 * A scratch directory with fake tools on PATH. Each fake is a sh body; every fake logs its
 * call to `$TOA_TEST_DIR/calls.log` first, so tests can say what the script ran.
 */
export class Sandbox {
  readonly dir = mkdtempSync(join(tmpdir(), 'toa-lab-os-'));
  private readonly bin = join(this.dir, 'bin');

  constructor(fakes: Record<string, string> = {}) {
    mkdirSync(this.bin);
    for (const [name, body] of Object.entries(fakes)) this.fake(name, body);
  }

  fake(name: string, body: string): void {
    // printf, not echo: dash's echo would expand the `\n` in arguments such as `echo -e "…"`.
    this.executable(join(this.bin, name), `printf '%s\\n' "${name} $*" >> "$TOA_TEST_DIR/calls.log"\n${body}`);
  }

  /** Writes an executable sh script at `path` (inside the sandbox, e.g. a fake /etc/init.d/networking). */
  executable(path: string, body: string): void {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
  }

  run(script: string, interpreter = '/bin/sh', env: Record<string, string> = {}): ScriptRun {
    const file = join(this.dir, 'script');
    writeFileSync(file, script);
    const result = spawnSync(interpreter, [file], {
      cwd: this.dir,
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, ...env, PATH: `${this.bin}:${process.env.PATH ?? '/usr/bin:/bin'}`, TOA_TEST_DIR: this.dir },
    });
    let calls: string[] = [];
    try {
      calls = spawnSync('cat', [join(this.dir, 'calls.log')], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    } catch {
      calls = [];
    }
    return { code: result.status, stdout: result.stdout, stderr: result.stderr, calls };
  }

  /** The script with every absolute path under `prefixes` moved into the sandbox. */
  relocate(script: string, prefixes: readonly string[]): string {
    return prefixes.reduce((text, prefix) => text.replaceAll(prefix, `${this.dir}${prefix}`), script);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function hasShellcheck(): boolean {
  return spawnSync('shellcheck', ['--version'], { encoding: 'utf8' }).status === 0;
}
