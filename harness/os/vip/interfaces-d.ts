import { EXIT_CODES, type GuestFile } from '../shell.ts';
import { echoEArgument, loLabel, sudoPrefix, SUDO_REDIRECT_DIRECTIVE, type VipRenderer } from './vip-rendering.ts';

/**
 * UCloud, "Ubuntu 16.04" and "Debian 10.0": one stanza per VIP (the guide's four lines,
 * stanzas separated by a blank line) in one file under /etc/network/interfaces.d, then
 * `/etc/init.d/networking restart`.
 */
export function interfacesDFile(vips: readonly string[], path: string): GuestFile {
  const stanzas = vips.map((vip, i) =>
    [`auto ${loLabel(i)}`, `iface ${loLabel(i)} inet static`, `address ${vip}`, 'netmask 255.255.255.255'].join('\n'),
  );
  return { path, content: `${stanzas.join('\n\n')}\n`, mode: 0o644 };
}

export function interfacesDRenderer(path: string, userDataSudo: boolean): VipRenderer {
  return (vips) => {
    const file = interfacesDFile(vips, path);
    const sudo = sudoPrefix(userDataSudo);
    return {
      name: `${path} + networking restart`,
      files: [file],
      prepare: [
        // The guide takes for granted that the directory is sourced; an image without it
        // would accept the file and silently configure nothing.
        "grep -Eq '^[[:space:]]*source(-directory)?[[:space:]]+/etc/network/interfaces\\.d' /etc/network/interfaces ||",
        `  die ${EXIT_CODES.precondition} "/etc/network/interfaces does not source /etc/network/interfaces.d: ${path} would be ignored"`,
      ],
      activate: [
        // The guide's command. Under systemd the SysV script hands over to
        // `systemctl restart networking`; newer ifupdown packages may not ship the script at
        // all, so fall back to the unit directly.
        'if [ -x /etc/init.d/networking ]; then',
        `  /etc/init.d/networking restart || die ${EXIT_CODES.failure} "/etc/init.d/networking restart failed"`,
        'else',
        `  systemctl restart networking || die ${EXIT_CODES.failure} "systemctl restart networking failed"`,
        'fi',
      ],
      userData: [
        `${sudo}touch ${path}`,
        ...(userDataSudo ? [SUDO_REDIRECT_DIRECTIVE] : []),
        `${sudo}echo -e "${echoEArgument(file.content, path)}" > ${path}`,
        `${sudo}/etc/init.d/networking restart`,
      ],
    };
  };
}
