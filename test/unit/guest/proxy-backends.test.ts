import { describe, expect, it } from 'vitest';
import { ProxyProtocolBackends, renderHaproxyConfig, renderNginxProxySite } from '../../../harness/guest/proxy-backends.ts';
import type { GuestShell } from '../../../harness/remote/guest-shell.ts';

describe('PROXY protocol backends', () => {
  it('nginx: proxy_protocol on the listener, the header believed only from the balancer /32, our log format', () => {
    const site = renderNginxProxySite({ port: 8081, trustedSource: '192.0.2.2' });
    expect(site).toContain('listen 8081 proxy_protocol;');
    expect(site).toContain('set_real_ip_from 192.0.2.2/32;');
    expect(site).toContain('real_ip_header proxy_protocol;');
    expect(site).toMatch(/log_format toa_lab_proxy 'toa-lab-proxy backend=nginx remote=\$remote_addr remote_port=\$remote_port proxy=\$proxy_protocol_addr/);
    expect(site).toContain('error_log /var/log/toa-lab/nginx-proxy-error.log info;');
    // Only the documented trust: no other set_real_ip_from.
    expect(site.match(/set_real_ip_from/g)).toHaveLength(1);
  });

  it('HAProxy: accept-proxy, every other source rejected before its header, request and error lines in our format', () => {
    const config = renderHaproxyConfig({ port: 8082, trustedSource: '192.0.2.2' });
    expect(config).toContain('    bind :8082 accept-proxy\n');
    expect(config).toContain('    tcp-request connection reject if !{ src 192.0.2.2 }\n');
    expect(config).toMatch(/log-format "toa-lab-proxy backend=haproxy remote=%ci remote_port=%cp .*fc_pp_authority.*fc_pp_unique_id,hex/);
    expect(config).toMatch(/error-log-format "toa-lab-proxy-error backend=haproxy .*fc_err_str/);
    expect(config).toContain('log stdout format raw');
  });

  it('are found with command -v; none on a guest with neither (a micro-VM)', async () => {
    const shell = (stdout: string): GuestShell => {
      const result = { exitCode: 0, stdout, stderr: '' } as Awaited<ReturnType<GuestShell['run']>>;
      return { run: async () => result, check: async () => result };
    };
    expect((await ProxyProtocolBackends.detect(shell('nginx\nhaproxy\n'), '192.0.2.2'))?.available).toEqual(['nginx', 'haproxy']);
    expect((await ProxyProtocolBackends.detect(shell('nginx\n'), '192.0.2.2'))?.available).toEqual(['nginx']);
    expect(await ProxyProtocolBackends.detect(shell(''), '192.0.2.2')).toBeUndefined();
  });

  it("start once, read nginx's access and error logs in one command, and say why one did not start", async () => {
    const commands: string[] = [];
    const access = 'toa-lab-proxy backend=nginx remote=198.51.100.21 remote_port=41001 proxy=198.51.100.21 proxy_port=41001 peer=192.0.2.2 status=200 uri=/?conn=0';
    const error = '2026/12/03 18:09:07 [error] 1#1: *3 unknown PROXY protocol version: 3 while reading PROXY protocol, client: 192.0.2.2, server: 0.0.0.0:8081';
    const reply = (command: string) => {
      commands.push(command);
      if (command.startsWith('for b in')) return { exitCode: 0, stdout: 'nginx\nhaproxy\n', stderr: '' };
      if (command.includes('haproxy -c')) return { exitCode: 3, stdout: "[ALERT] config : parsing [/etc/toa-lab/haproxy-proxy.cfg:14] : unknown keyword 'error-log-format'", stderr: '' };
      if (command.startsWith('cat /var/log/toa-lab/nginx-proxy-access.log')) return { exitCode: 0, stdout: `${access}\n--toa-lab-log-separator--\n${error}\n`, stderr: '' };
      return { exitCode: 0, stdout: '', stderr: '' };
    };
    const guest: GuestShell = {
      run: async (command) => reply(command) as Awaited<ReturnType<GuestShell['run']>>,
      check: async (command) => reply(command) as Awaited<ReturnType<GuestShell['run']>>,
    };
    const backends = (await ProxyProtocolBackends.detect(guest, '192.0.2.2'))!;
    const started = backends.start();
    expect(backends.start()).toBe(started);
    await expect(started).rejects.toThrow(/HAProxy with accept-proxy on :8082 did not start \(exit 3\): .*unknown keyword 'error-log-format'/);

    const nginxOnly = (await ProxyProtocolBackends.detect({ ...guest, run: async (c) => (c.startsWith('for b in') ? { exitCode: 0, stdout: 'nginx\n', stderr: '' } : reply(c)) as Awaited<ReturnType<GuestShell['run']>> }, '192.0.2.2'))!;
    const [nginx] = await nginxOnly.start();
    const log = await nginx!.readLog();
    expect(log.requests.map((r) => r.remote)).toEqual(['198.51.100.21']);
    expect(log.refusals.map((r) => r.reason)).toEqual(['unknown PROXY protocol version: 3 while reading PROXY protocol']);
    expect(commands.filter((c) => c.startsWith('cat '))).toHaveLength(1);
  });
});
