import { readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { OwnedProcess } from '../lifecycle/owned-process.ts';
import type { RunSession } from '../lifecycle/run-session.ts';
import type { GuestForward } from '../vm/qemu/qemu-args.ts';
import { findFreeLocalPort } from '../vm/free-port.ts';

/**
 * A package source for guests whose NIC stays closed (`restrict=on`): an HTTP
 * proxy on the host's 127.0.0.1, reached from inside the guest's user-mode
 * network at a fixed address through a `guestfwd` rule, and allowed to fetch
 * from the repository hosts the run names and nothing else.
 *
 *   guest apt/yum ─▶ 10.0.2.100:3128 ─guestfwd (socat per connection)─▶ 127.0.0.1:PORT tinyproxy ─▶ mirror
 *
 * Why tinyproxy (Debian's `tinyproxy-bin`) and not apt-cacher-ng: apt-cacher-ng
 * cannot open a listening socket on these machines ("Error resolving address for
 * binding", whatever BindAddress says — measured), and the archive reached here
 * already answers like a local cache (a 9.7 MB .deb in 15 ms), so a forwarding
 * proxy costs nothing a cache would save. Its filter (a domain allow-list, default
 * deny) is the network hygiene: the guest reaches the package archive, no other host.
 */
export const GUEST_PROXY_ADDRESS = '10.0.2.100';
export const GUEST_PROXY_PORT = 3128;

/** Debian's archive as Debian's images name it. A vendor's config adds its own mirrors. */
export const DEFAULT_REPOSITORY_HOSTS = ['deb.debian.org', 'security.debian.org'] as const;

export interface PackageProxy {
  /** What the guest's package manager is told: `http://10.0.2.100:3128`. */
  guestUrl: string;
  /** The QEMU rule that carries the guest's connections to the proxy. */
  forward: GuestForward;
  /** The proxy's own log: every request the guest made (evidence of what the guide's step fetched). */
  log: string;
}

export async function startPackageProxy(session: RunSession, allowedHosts: readonly string[] = DEFAULT_REPOSITORY_HOSTS): Promise<PackageProxy> {
  const dir = await session.subdir('package-proxy');
  const port = await findFreeLocalPort();
  const filter = join(dir, 'allowed-hosts');
  // tinyproxy's filter lines are extended regular expressions over the host name.
  await writeFile(filter, allowedHosts.map((host) => `^${host.replaceAll('.', '\\.')}$`).join('\n') + '\n');
  const log = join(dir, 'tinyproxy.log');
  const config = join(dir, 'tinyproxy.conf');
  await writeFile(
    config,
    [
      `Port ${port}`,
      'Listen 127.0.0.1',
      'Allow 127.0.0.1',
      'Timeout 600',
      'MaxClients 32',
      `PidFile "${join(dir, 'tinyproxy.pid')}"`,
      `LogFile "${log}"`,
      'LogLevel Connect',
      `Filter "${filter}"`,
      'FilterDefaultDeny Yes',
      'ConnectPort 443',
      'DisableViaHeader Yes',
    ].join('\n') + '\n',
  );
  const proxy = OwnedProcess.start('tinyproxy', ['-d', '-c', config], join(dir, 'tinyproxy.stderr'));
  session.defer(() => proxy.stop().then(() => undefined));
  await waitUntilListening(port, () => proxy.hasExited, join(dir, 'tinyproxy.stderr'));
  return {
    guestUrl: `http://${GUEST_PROXY_ADDRESS}:${GUEST_PROXY_PORT}`,
    forward: { address: GUEST_PROXY_ADDRESS, port: GUEST_PROXY_PORT, command: `socat - TCP:127.0.0.1:${port}` },
    log,
  };
}

async function waitUntilListening(port: number, exited: () => unknown, stderr: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    if (exited() || Date.now() > deadline) {
      const why = (await readFile(stderr, 'utf8').catch(() => '')).trim().split('\n').slice(-3).join(' | ');
      throw new Error(`the guests' package proxy (tinyproxy) did not start on 127.0.0.1:${port}${why ? `: ${why}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
