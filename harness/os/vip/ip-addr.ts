import { EXIT_CODES } from '../shell.ts';
import { loLabel, type VipRenderer } from './vip-rendering.ts';

/**
 * Not in the guides (UCloud has no SUSE row): the VIPs added at runtime, labelled like the
 * guide's aliases. Nothing is persistent, so a reboot loses them; there is no UserData form.
 */
export const ipAddrRenderer: VipRenderer = (vips) => ({
  name: 'ip addr add VIP/32 dev lo (runtime only)',
  files: [],
  prepare: [`command -v ip >/dev/null 2>&1 || die ${EXIT_CODES.precondition} "ip (iproute2) is not installed"`],
  activate: vips.flatMap((vip, i) => [
    `ip -o addr show dev lo | grep -q ' inet ${vip}/32 ' ||`,
    `  ip addr add ${vip}/32 dev lo label ${loLabel(i)} || die ${EXIT_CODES.failure} "ip addr add ${vip}/32 dev lo failed"`,
  ]),
  userData: null,
});
