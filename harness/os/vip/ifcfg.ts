import { ensurePackageLines, packageFunctionLines } from '../package-managers.ts';
import { EXIT_CODES, type GuestFile } from '../shell.ts';
import { echoEArgument, loLabel, type VipRenderer } from './vip-rendering.ts';

/**
 * UCloud, "CentOS 7 and below" and (with `yum install network-scripts -y` first) "CentOS 8
 * and above" / "Rocky Linux 8.5": one ifcfg-lo:N file per VIP, then `ifup lo:N`.
 */
export function ifcfgFiles(vips: readonly string[]): GuestFile[] {
  return vips.map((vip, i) => ({
    path: `/etc/sysconfig/network-scripts/ifcfg-${loLabel(i)}`,
    content: `DEVICE=${loLabel(i)}\nIPADDR=${vip}\nNETMASK=255.255.255.255\n`,
    mode: 0o644,
  }));
}

export function ifcfgRenderer(withNetworkScripts: boolean): VipRenderer {
  return (vips, { profile }) => {
    const files = ifcfgFiles(vips);
    return {
      name: `${withNetworkScripts ? 'network-scripts + ' : ''}ifcfg-lo:N + ifup`,
      files,
      prepare: [
        ...(withNetworkScripts
          ? [
              ...packageFunctionLines(profile.packageManager),
              // EL8 dropped the legacy ifup that reads ifcfg-lo:N files; network-scripts brings it back.
              ...ensurePackageLines('network-scripts', 'the guide installs it for ifup'),
            ]
          : []),
        `command -v ifup >/dev/null 2>&1 || die ${EXIT_CODES.precondition} "ifup is not installed"`,
      ],
      activate: vips.map((_, i) => `ifup ${loLabel(i)} || die ${EXIT_CODES.failure} "ifup ${loLabel(i)} failed"`),
      userData: [
        ...(withNetworkScripts ? ['yum install network-scripts -y'] : []),
        ...files.flatMap((file, i) => [
          `touch ${file.path}`,
          `echo -e "${echoEArgument(file.content, file.path)}" > ${file.path}`,
          `ifup ${loLabel(i)}`,
        ]),
      ],
    };
  };
}
