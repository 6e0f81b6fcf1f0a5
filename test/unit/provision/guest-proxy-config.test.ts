import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { guestPackageProxyScript } from '../../../harness/provision/guest-proxy-config.ts';
import { Sandbox } from '../os/helpers.ts';

/** The proxy settings a Vagrant guest gets, run against each family's own files in a sandbox. */
const URL = 'http://10.0.2.100:3128';
let sandbox: Sandbox;
afterEach(() => sandbox.remove());

function runWith(files: Record<string, string>): (path: string) => string {
  sandbox = new Sandbox();
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(sandbox.dir, path, '..'), { recursive: true });
    writeFileSync(join(sandbox.dir, path), content);
  }
  const run = sandbox.run(sandbox.relocate(guestPackageProxyScript(URL), ['/etc/']));
  expect(run.code, run.stderr).toBe(0);
  return (path) => readFileSync(join(sandbox.dir, path), 'utf8');
}

describe('the guest package proxy settings', () => {
  it('yum: proxy= under [main], once', () => {
    const read = runWith({ '/etc/yum.conf': '[main]\ncachedir=/var/cache/yum\n' });
    expect(read('/etc/yum.conf')).toBe(`[main]\nproxy=${URL}\ncachedir=/var/cache/yum\n`);
  });

  it('zypper (openSUSE, SLES): /etc/sysconfig/proxy enabled with the proxy for http and https', () => {
    const read = runWith({ '/etc/sysconfig/proxy': 'PROXY_ENABLED="no"\nHTTP_PROXY=""\nHTTPS_PROXY=""\nNO_PROXY="localhost, 127.0.0.1"\n' });
    expect(read('/etc/sysconfig/proxy')).toBe(`PROXY_ENABLED="yes"\nHTTP_PROXY="${URL}"\nHTTPS_PROXY="${URL}"\nNO_PROXY="localhost, 127.0.0.1"\n`);
  });

  it('apt: a conf.d file', () => {
    const read = runWith({ '/etc/apt/apt.conf.d/00x': '' });
    expect(read('/etc/apt/apt.conf.d/90toa-lab-proxy')).toBe(`Acquire::http::Proxy "${URL}";\n`);
  });
});
