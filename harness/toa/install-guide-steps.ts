import { EXIT_CODES, profileById, renderProcedure, type OsProfile, type ProcedureStep, type RepositoryMirror, type StepId, type VipMethodName } from '../os/index.ts';

/**
 * The guides' procedure for a full-OS image, as harness/os renders it for the
 * image's OS profile (toolchain → toa-build → toa-load → autoload → vip →
 * backend), arranged for the full-OS lab:
 * - both VIP methods the guides use on Debian-family systems run for real:
 *   the Debian row's interfaces.d stanzas (lo:1, lo:2, ...) and the Ubuntu
 *   18.04/20.04 row's netplan file, each with its own VIPs so that after a
 *   reboot each method's addresses are evidence of that method alone;
 * - two backends: the guide's Python server, and nginx with its access log.
 * Each step gets a timeout fit for a TCG guest, so a hang becomes a verdict.
 */
export interface GuideStep {
  id: StepId;
  name: string;
  interpreter: ProcedureStep['interpreter'];
  script: string;
  /** Re-checks the step's effect (for autoload: after a reboot). */
  verify?: string;
  timeoutMs: number;
}

export interface FullOsGuidePlan {
  /** Where the harness pushes native/toa in the guest. */
  toaSourceDir: string;
  /** The Debian row's VIPs: /etc/network/interfaces.d stanzas lo:1, lo:2, ... */
  interfacesDVips: readonly string[];
  /** The Ubuntu 18.04/20.04 row's VIPs: /etc/netplan, lo addresses. */
  netplanVips: readonly string[];
  pythonPort: number;
  nginxPort: number;
}

export interface FullOsGuide {
  /** toolchain, toa-build, toa-load, autoload, vip (interfaces.d), vip (netplan). */
  setup: GuideStep[];
  /** After the reboot: the Python server, then nginx. */
  backends: GuideStep[];
}

export const NO_KERNEL_DEVEL_EXIT = EXIT_CODES.noKernelDevel;
export const PYTHON_ACCESS_LOG = '/var/log/toa-lab/python-http-server.log';
export const NGINX_ACCESS_LOG = '/var/log/toa-lab/nginx-access.log';

/** Under TCG on a shared 2-core host: make takes 20–70 s, networking restart and netplan apply 10–40 s. */
const TIMEOUT_MS: Record<StepId, number> = {
  // Files rewritten in place: nothing is fetched.
  repositories: 60_000,
  // A stock image installs gcc and the headers from its repositories: minutes of dpkg under TCG.
  toolchain: 900_000,
  'toa-build': 420_000,
  'toa-load': 60_000,
  autoload: 120_000,
  vip: 180_000,
  backend: 90_000,
};

export function renderFullOsGuide(profileId: string, plan: FullOsGuidePlan): FullOsGuide {
  const profile = profileById(profileId);
  const render = (vipMethod: 'interfaces-d' | 'netplan', vips: readonly string[], backend: 'python' | 'nginx') =>
    renderProcedure(profile, {
      toaSourceDir: plan.toaSourceDir,
      vips,
      vipMethod,
      backend:
        backend === 'python'
          ? { kind: 'python', port: plan.pythonPort, accessLog: PYTHON_ACCESS_LOG }
          : { kind: 'nginx', port: plan.nginxPort, accessLog: NGINX_ACCESS_LOG },
    }).map(withTimeout);
  const debianRow = render('interfaces-d', plan.interfacesDVips, 'python');
  const ubuntuRow = render('netplan', plan.netplanVips, 'nginx');
  const pick = (steps: GuideStep[], id: StepId): GuideStep => steps.find((s) => s.id === id)!;
  return {
    setup: [
      ...(['toolchain', 'toa-build', 'toa-load', 'autoload'] as const).map((id) => pick(debianRow, id)),
      pick(debianRow, 'vip'),
      pick(ubuntuRow, 'vip'),
    ],
    backends: [pick(debianRow, 'backend'), pick(ubuntuRow, 'backend')],
  };
}

function withTimeout(step: ProcedureStep): GuideStep {
  return {
    id: step.id,
    name: step.name,
    interpreter: step.interpreter,
    script: step.script,
    ...(step.verify && { verify: step.verify }),
    timeoutMs: TIMEOUT_MS[step.id],
  };
}

/**
 * The guide's own row on an image the lab did not build: the row's default VIP
 * method with its VIPs, and the guides' verification server (Python) — nothing
 * the row does not say (no second VIP method, no nginx: a stock image has neither).
 */
export interface RowGuide {
  setup: GuideStep[];
  backends: GuideStep[];
}

export interface RowGuideChoices {
  /** One of the row's VIP methods (default: its first). */
  vipMethod?: VipMethodName;
  /** The guide's files form (default) or its UserData form. */
  vipForm?: 'files' | 'cloud-init';
  /**
   * The mirror or archive the run's package proxy allows (the named row's, from its data or
   * the user's config), which replaces the row's built-in one; none, and the guest's own
   * repository definitions are used as they are.
   */
  repositories?: RepositoryMirror;
  /** `dkms` instead of the row's own autoload (ProcedureOptions.autoload): DKMS rebuilds toa.ko for every new kernel. */
  autoload?: 'default' | 'dkms';
}

export function renderRowGuide(profileId: string, plan: Omit<FullOsGuidePlan, 'netplanVips' | 'nginxPort'>, choices: RowGuideChoices = {}): RowGuide {
  const { vipMethod, vipForm = 'files', repositories, autoload } = choices;
  const profile: OsProfile = { ...profileById(profileId), repositories };
  const steps = renderProcedure(profile, {
    toaSourceDir: plan.toaSourceDir,
    vips: plan.interfacesDVips,
    vipForm,
    ...(vipMethod && { vipMethod }),
    ...(autoload && { autoload }),
    backend: { kind: 'python', port: plan.pythonPort, accessLog: PYTHON_ACCESS_LOG },
  }).map(withTimeout);
  return { setup: steps.filter((s) => s.id !== 'backend'), backends: steps.filter((s) => s.id === 'backend') };
}

