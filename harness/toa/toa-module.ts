import type { CommandResult } from '../exec/command-result.ts';
import { parseToaStats, type ToaStats } from '../checks/toa-stats.ts';
import { shellQuote, type GuestShell } from '../remote/guest-shell.ts';

/** Parameters of our toa.ko (native/toa); a third-party module may ignore them. */
export interface ToaModuleParams {
  /** Option kinds accepted; the module's default is 254 only. */
  kinds?: readonly number[];
  /** Balancer addresses/CIDRs whose TOA is honoured; empty means all (the guides' behaviour). */
  trustedSources?: readonly string[];
}

export function insmodArguments(params: ToaModuleParams): string[] {
  const args: string[] = [];
  if (params.kinds?.length) args.push(`toa_kinds=${params.kinds.join(',')}`);
  if (params.trustedSources?.length) args.push(`trusted_sources=${params.trustedSources.join(',')}`);
  return args;
}

/** `insmod` as the guide says; the result is the step's evidence (loader errors included). */
export function insertToaModule(
  guest: GuestShell,
  modulePath: string,
  params: ToaModuleParams = {},
  /** Raw `name=value` words after ours (a scenario's deliberately bad parameter). */
  extraArguments: readonly string[] = [],
): Promise<CommandResult> {
  return guest.run(['insmod', modulePath, ...insmodArguments(params), ...extraArguments].map(shellQuote).join(' '));
}

export function removeToaModule(guest: GuestShell): Promise<CommandResult> {
  return guest.run('rmmod toa');
}

/** The guide's verification step: `dmesg | grep TOA`. */
export async function toaKernelMessages(guest: GuestShell): Promise<string[]> {
  const result = await guest.run('dmesg | grep TOA');
  return result.stdout.split('\n').filter(Boolean);
}

export async function isToaModuleLoaded(guest: GuestShell): Promise<boolean> {
  const result = await guest.run('grep -q "^toa " /proc/modules');
  return result.exitCode === 0;
}

export async function readToaStats(guest: GuestShell): Promise<ToaStats> {
  return parseToaStats((await guest.check('cat /proc/net/toa_stats')).stdout);
}

