import type { GuestShell } from '../remote/guest-shell.ts';

/**
 * Points a guest's package manager at the run's proxy when no cloud-init seed
 * did (a Vagrant box has its own datasource): apt's proxy setting, yum's and
 * dnf's `proxy=`, zypper's /etc/sysconfig/proxy; whichever the guest has. Lab
 * plumbing, written where the OS reads it, and reported in the command log like
 * every other command.
 */
export async function configureGuestPackageProxy(guest: GuestShell, url: string): Promise<void> {
  await guest.check(guestPackageProxyScript(url));
}

/** The shell lines behind configureGuestPackageProxy (`url`: the lab's own http://10.0.2.100:3128). */
export function guestPackageProxyScript(url: string): string {
  return [
    `if [ -d /etc/apt/apt.conf.d ]; then printf 'Acquire::http::Proxy "%s";\\n' '${url}' > /etc/apt/apt.conf.d/90toa-lab-proxy; fi`,
    `for conf in /etc/dnf/dnf.conf /etc/yum.conf; do if [ -f "$conf" ] && ! grep -q '^proxy=' "$conf"; then sed -i '/^\\[main\\]/a proxy=${url}' "$conf"; fi; done`,
    // openSUSE and SLES: libzypp reads the system proxy settings (yast2's "Proxy" module writes the same).
    `if [ -f /etc/sysconfig/proxy ]; then sed -i -e 's|^PROXY_ENABLED=.*|PROXY_ENABLED="yes"|' -e 's|^HTTP_PROXY=.*|HTTP_PROXY="${url}"|' -e 's|^HTTPS_PROXY=.*|HTTPS_PROXY="${url}"|' /etc/sysconfig/proxy; fi`,
  ].join('\n');
}
