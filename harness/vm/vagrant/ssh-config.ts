/**
 * `vagrant ssh-config` output (OpenSSH client config) for one machine, and the
 * rule the lab keeps: the guest is reached through 127.0.0.1 only, never an
 * address on a host bridge (vagrant-libvirt's default 192.168.121.0/24).
 */
export interface VagrantSshConfig {
  /** The `Host` alias (vagrant's machine name). */
  alias: string;
  hostName: string;
  port: number;
  user: string;
  identityFiles: string[];
}

export function parseVagrantSshConfig(text: string): VagrantSshConfig {
  let alias: string | undefined;
  const values = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(\S+)\s+(.+)$/.exec(line);
    if (!match) continue;
    const key = match[1]!.toLowerCase();
    const value = match[2]!.replace(/^"(.*)"$/, '$1');
    if (key === 'host') {
      if (alias !== undefined) throw new Error(`vagrant ssh-config names more than one machine (${alias}, ${value}): expected one`);
      alias = value;
      continue;
    }
    values.set(key, [...(values.get(key) ?? []), value]);
  }
  const one = (key: string): string => {
    const found = values.get(key.toLowerCase())?.[0];
    if (found === undefined) throw new Error(`vagrant ssh-config has no ${key}:\n${text}`);
    return found;
  };
  const port = Number(one('Port'));
  if (!Number.isInteger(port) || port <= 0 || port > 65_535) throw new Error(`vagrant ssh-config: bad Port ${one('Port')}`);
  return {
    alias: alias ?? '',
    hostName: one('HostName'),
    port,
    user: one('User'),
    identityFiles: values.get('identityfile') ?? [],
  };
}

/** Throws unless vagrant's idea of the guest is the loopback forward the lab set up. */
export function assertLoopbackOnly(config: VagrantSshConfig, expectedPort: number): void {
  if (config.hostName !== '127.0.0.1') {
    throw new Error(`vagrant reports the guest at ${config.hostName}: this lab reaches guests through 127.0.0.1 only`);
  }
  if (config.port !== expectedPort) {
    throw new Error(`vagrant reports SSH on port ${config.port}, but the guest's forward is 127.0.0.1:${expectedPort}`);
  }
}
