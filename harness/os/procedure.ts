import { isIpv4 } from '../net/codec/address.ts';
import type { OsProfile, RepositoryMirror, VipMethod, VipMethodName } from './profile.ts';
import type { GuestFile } from './shell.ts';
import { renderRepositories } from './steps/repositories.ts';
import { renderToolchain } from './steps/toolchain.ts';
import { renderToaBuild } from './steps/toa-build.ts';
import { renderToaLoad } from './steps/toa-load.ts';
import { renderAutoload } from './steps/autoload.ts';
import { renderVip } from './steps/vip.ts';
import { renderBackend } from './steps/backend.ts';

/**
 * The guides' procedures for one OS profile, rendered as the scripts a harness runs in the
 * guest, in order: [repositories →] toolchain → toa-build → toa-load → autoload → vip → backend.
 * `repositories` is there only when the profile names a mirror or archive for its packages
 * (end-of-life rows, or a user's config): it points the package manager there first.
 */

export type StepId = 'repositories' | 'toolchain' | 'toa-build' | 'toa-load' | 'autoload' | 'vip' | 'backend';

export interface ProcedureStep {
  id: StepId;
  name: string;
  /**
   * What runs `script` (and `verify`): everything is POSIX sh except the UCloud guide's
   * cloud-init UserData, which is bash (`echo -e`). Feed the script on stdin or run it as a file.
   */
  interpreter: '/bin/sh' | '/bin/bash';
  /** Complete script, run as root; exits non-zero (see EXIT_CODES) on failure. */
  script: string;
  /** Files `script` writes itself (they need not be pushed): for tests, reports and evidence. */
  files?: GuestFile[];
  /** Re-checks the step's effect on the guest; for `autoload`, meaningful after a reboot. */
  verify?: string;
  /** The guest must be rebooted before the next step (the patched kernel boots into it). */
  rebootAfter?: boolean;
}

export interface BackendOptions {
  port: number;
  /** `python`: the guides' verification server (the profile's command); `nginx`: a server block. */
  kind: 'python' | 'nginx';
  /** Where the backend's access log goes: the evidence a verdict is built on. */
  accessLog: string;
}

export interface ProcedureOptions {
  /** Where the harness pushed the TOA source in the guest (for the patched kernel: the LVS tarball). */
  toaSourceDir: string;
  /** One or more IPv4 VIPs, configured as lo:1, lo:2, … in this order. */
  vips: readonly string[];
  /** `files`: the guide's step-by-step form; `cloud-init`: its UserData (bash) form. Default `files`. */
  vipForm?: 'files' | 'cloud-init';
  backend: BackendOptions;
  /** `dkms` instead of the profile's autoload method (systemd profiles, out-of-tree TOA only). */
  autoload?: 'default' | 'dkms';
  /** One of the profile's VIP methods instead of its default. */
  vipMethod?: VipMethodName;
  /** `name=value` module parameters, passed to insmod/modprobe and to the boot-time load. */
  moduleParams?: readonly string[];
  /**
   * Set arp_ignore=1 / arp_announce=2 so the VIP on lo is never answered for or announced
   * (the usual direct-server-return advice; neither guide says it, so off by default).
   */
  dsrArp?: boolean;
}

/** Everything a step renderer needs: the profile, validated options and resolved choices. */
export interface RenderContext {
  profile: OsProfile;
  options: ProcedureOptions;
  /** options.toaSourceDir without a trailing slash. */
  sourceDir: string;
  /** Where toa-build leaves toa.ko for every later step: `<toaSourceDir>/toa.ko`. */
  modulePath: string;
  vipMethod: VipMethod;
  /** The profile's mirror or archive, validated (its URLs end up in sed and awk programs). */
  repositories?: RepositoryMirror;
}

export function renderProcedure(profile: OsProfile, options: ProcedureOptions): ProcedureStep[] {
  const context = createRenderContext(profile, options);
  return [
    ...(context.repositories ? [renderRepositories(context, context.repositories)] : []),
    renderToolchain(context),
    renderToaBuild(context),
    renderToaLoad(context),
    renderAutoload(context),
    renderVip(context),
    renderBackend(context),
  ];
}

/** Validates the options (they end up in root shell scripts) and resolves the profile's choices. */
export function createRenderContext(profile: OsProfile, options: ProcedureOptions): RenderContext {
  const safePath = /^\/[\w.+/-]*$/;
  const problems: string[] = [];
  // The guide's toa.modules names the module path unquoted, so no shell-special characters.
  if (!safePath.test(options.toaSourceDir)) problems.push(`toaSourceDir must be an absolute path of [A-Za-z0-9_.+/-] (found '${options.toaSourceDir}')`);
  if (options.vips.length === 0) problems.push('vips must name at least one VIP');
  for (const vip of options.vips) {
    if (!isIpv4(vip)) problems.push(`VIP '${vip}' is not a dotted-quad IPv4 address (the guides configure IPv4 VIPs only)`);
  }
  if (new Set(options.vips).size !== options.vips.length) problems.push(`vips has duplicates: ${options.vips.join(', ')}`);
  const { port, accessLog } = options.backend;
  if (!Number.isInteger(port) || port < 1 || port > 65535) problems.push(`backend.port must be 1..65535 (found ${port})`);
  if (!safePath.test(accessLog) || accessLog.endsWith('/')) problems.push(`backend.accessLog must be an absolute file path of [A-Za-z0-9_.+/-] (found '${accessLog}')`);
  for (const param of options.moduleParams ?? []) {
    if (!/^\w+=[\w.,:/-]*$/.test(param)) problems.push(`module parameter '${param}' is not name=value of [A-Za-z0-9_.,:/-]`);
  }
  if (profile.repositories) problems.push(...repositoryUrlProblems(profile.repositories));
  if (problems.length > 0) throw new Error(`cannot render the procedure for ${profile.id}:\n- ${problems.join('\n- ')}`);

  const vipMethod = options.vipMethod ? profile.vip.find((v) => v.method === options.vipMethod) : profile.vip[0];
  if (!vipMethod) {
    throw new Error(`${profile.id} does not support VIP method '${options.vipMethod}' (supported: ${profile.vip.map((v) => v.method).join(', ')})`);
  }
  const sourceDir = options.toaSourceDir.replace(/\/+$/, '') || '/';
  return {
    profile,
    options,
    sourceDir,
    modulePath: `${sourceDir === '/' ? '' : sourceDir}/toa.ko`,
    vipMethod,
    ...(profile.repositories && { repositories: profile.repositories }),
  };
}

/**
 * A repository URL as the renderers can use it: http(s), a host, a path of plain characters
 * (it goes into sed, awk and grep programs), no trailing slash (the renderers add it).
 */
export const REPOSITORY_URL = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?(\/[\w.~+-]+)*$/;

/** The hosts a mirror's URLs name: what the package proxy must allow for it. */
export function repositoryHosts(mirror: RepositoryMirror): string[] {
  return [...new Set([mirror.url, mirror.securityUrl].filter((url) => url !== undefined).map((url) => new URL(url).hostname))];
}

export function repositoryUrlProblems(mirror: RepositoryMirror): string[] {
  return [mirror.url, mirror.securityUrl]
    .filter((url) => url !== undefined && !REPOSITORY_URL.test(url))
    .map((url) => `repository URL '${url}' must be http(s)://HOST[:PORT][/PATH] of [A-Za-z0-9_.~+-], without a trailing slash`);
}
