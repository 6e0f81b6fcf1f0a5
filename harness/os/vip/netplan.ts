import { EXIT_CODES, type GuestFile } from '../shell.ts';
import { echoEArgument, sudoPrefix, SUDO_REDIRECT_DIRECTIVE, type VipRenderer } from './vip-rendering.ts';

/**
 * UCloud, "Ubuntu 18.04 / 20.04": the VIPs as /32 addresses of `lo` in a netplan file,
 * then `netplan apply`.
 *
 * - `version: 2` is added. netplan's parser only checks the key when present, so the
 *   guide's file without it parses; but netplan's reference says the `network:` mapping
 *   contains `version: 2`, its own loopback example and cloud-init's files carry it, and
 *   with it the file stands on its own whatever other files say.
 * - The guide's UserData one-liner, `echo -e "network:\n ethernets:\n lo:\n addresses:\n
 *   - $VIP/32"`, indents every line by one space, which makes `ethernets`, `lo` and
 *   `addresses` siblings: valid YAML, but no address on lo (netplan rejects it). The
 *   rendered UserData writes the same, correctly indented, text as the file form.
 * - Mode 0600: netplan ≥ 0.106 warns that world-readable configuration is "too open".
 */
export function netplanFile(vips: readonly string[], path: string): GuestFile {
  const lines = ['network:', '  version: 2', '  ethernets:', '    lo:', '      addresses:', ...vips.map((vip) => `        - ${vip}/32`)];
  return { path, content: `${lines.join('\n')}\n`, mode: 0o600 };
}

export function netplanRenderer(path: string, userDataSudo: boolean): VipRenderer {
  return (vips) => {
    const file = netplanFile(vips, path);
    const sudo = sudoPrefix(userDataSudo);
    return {
      name: `${path} + netplan apply`,
      files: [file],
      prepare: [`command -v netplan >/dev/null 2>&1 || die ${EXIT_CODES.precondition} "netplan is not installed (package netplan.io)"`],
      activate: [`netplan apply || die ${EXIT_CODES.failure} "netplan apply failed"`],
      userData: [
        `${sudo}touch ${path}`,
        ...(userDataSudo ? [SUDO_REDIRECT_DIRECTIVE] : []),
        `${sudo}echo -e "${echoEArgument(file.content, path)}" > ${path}`,
        `${sudo}netplan apply`,
      ],
    };
  };
}
