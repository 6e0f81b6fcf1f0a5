import type { GuestShell } from '../remote/guest-shell.ts';

/**
 * Points a guest's package manager at the run's proxy when no cloud-init seed
 * did (a Vagrant box has its own datasource): apt's proxy setting, or yum's and
 * dnf's `proxy=`; whichever the guest has. Lab plumbing, written where the OS
 * reads it, and reported in the command log like every other command.
 */
export async function configureGuestPackageProxy(guest: GuestShell, url: string): Promise<void> {
  await guest.check(
    [
      `if [ -d /etc/apt/apt.conf.d ]; then printf 'Acquire::http::Proxy "%s";\\n' '${url}' > /etc/apt/apt.conf.d/90toa-lab-proxy; fi`,
      `for conf in /etc/dnf/dnf.conf /etc/yum.conf; do if [ -f "$conf" ] && ! grep -q '^proxy=' "$conf"; then sed -i '/^\\[main\\]/a proxy=${url}' "$conf"; fi; done`,
    ].join('\n'),
  );
}
