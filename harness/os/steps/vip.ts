import type { VipMethod } from '../profile.ts';
import type { ProcedureStep, RenderContext } from '../procedure.ts';
import { EXIT_CODES, type GuestFile, shScript, writeFileLines } from '../shell.ts';
import { ifcfgRenderer } from '../vip/ifcfg.ts';
import { interfacesDRenderer } from '../vip/interfaces-d.ts';
import { ipAddrRenderer } from '../vip/ip-addr.ts';
import { netplanRenderer } from '../vip/netplan.ts';
import type { VipRenderer, VipRendering } from '../vip/vip-rendering.ts';

/**
 * UCloud guide, "Message forwarding mode service node configuration": every VIP on
 * loopback (lo:1, lo:2, …), by the profile's method, in the guide's step-by-step form
 * (`files`) or its cloud-init UserData form. Either way the step succeeds only if
 * `ip -o addr show dev lo` then shows every VIP; `verify` repeats that check.
 */
export function renderVip(context: RenderContext): ProcedureStep {
  const { profile, options, vipMethod } = context;
  const rendering = rendererFor(vipMethod)(options.vips, context);
  const arp = options.dsrArp ? [DSR_ARP_FILE] : [];
  const files = [...rendering.files, ...arp];
  const common = {
    id: 'vip' as const,
    ...(files.length > 0 ? { files } : {}),
    verify: shScript(`verify the VIPs on lo on ${profile.displayName}`, vipsOnLoLines(options.vips)),
  };
  if ((options.vipForm ?? 'files') === 'cloud-init') {
    if (!rendering.userData) throw new Error(`${profile.id}: the guide has no cloud-init UserData form for VIP method '${vipMethod.method}'`);
    return {
      ...common,
      name: `VIP on lo, UserData: ${rendering.name}`,
      interpreter: '/bin/bash',
      script: userDataScript(profile.displayName, rendering.userData, arp),
    };
  }
  return {
    ...common,
    name: `VIP on lo: ${rendering.name}`,
    interpreter: '/bin/sh',
    script: shScript(`VIPs on lo for ${profile.displayName}: ${rendering.name}`, filesFormBody(rendering, options.vips, arp)),
  };
}

function rendererFor(method: VipMethod): VipRenderer {
  switch (method.method) {
    case 'ifcfg':
      return ifcfgRenderer(false);
    case 'ifcfg-network-scripts':
      return ifcfgRenderer(true);
    case 'interfaces-d':
      return interfacesDRenderer(method.file, method.userDataSudo);
    case 'netplan':
      return netplanRenderer(method.file, method.userDataSudo);
    case 'ip-addr':
      return ipAddrRenderer;
  }
}

function filesFormBody(rendering: VipRendering, vips: readonly string[], arp: readonly GuestFile[]): string[] {
  return [
    ...rendering.prepare,
    ...rendering.files.flatMap(writeFileLines),
    ...rendering.activate,
    ...vipsOnLoLines(vips),
    ...arp.flatMap(sysctlLines),
  ];
}

/**
 * The guide's UserData: `#!/bin/bash` and its commands, with no `set -e` or checks added —
 * this form exists to test what users paste. The verdict comes from `verify`.
 */
function userDataScript(displayName: string, commands: readonly string[], arp: readonly GuestFile[]): string {
  return [
    '#!/bin/bash',
    `# toa-lab: UCloud UserData (cloud-init) for ${displayName}, as the guide builds it`,
    ...commands,
    ...(arp.length > 0 ? ['# toa-lab: DSR ARP settings (not in the guide)', ...arp.flatMap(sysctlLines)] : []),
    '',
  ].join('\n');
}

function vipsOnLoLines(vips: readonly string[]): string[] {
  return [
    'addresses=$(ip -o addr show dev lo)',
    `for vip in ${vips.join(' ')}; do`,
    '  case "$addresses" in',
    '    *" inet $vip/32 "*) echo "toa-lab: $vip is on lo" ;;',
    `    *) die ${EXIT_CODES.failure} "VIP $vip is not on lo (ip -o addr show dev lo: $addresses)" ;;`,
    '  esac',
    'done',
  ];
}

/**
 * Direct server return: the backend must neither answer ARP for the VIP (arp_ignore=1:
 * only for addresses of the interface asked on) nor use it as an ARP source (arp_announce=2).
 */
export const DSR_ARP_FILE: GuestFile = {
  path: '/etc/sysctl.d/90-toa-lab-dsr-arp.conf',
  content: ['net.ipv4.conf.all.arp_ignore = 1', 'net.ipv4.conf.all.arp_announce = 2', ''].join('\n'),
  mode: 0o644,
};

function sysctlLines(file: GuestFile): string[] {
  return [...writeFileLines(file), `sysctl -p ${file.path}`];
}
