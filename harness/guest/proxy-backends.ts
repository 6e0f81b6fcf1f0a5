import {
  haproxyFrontendCounter,
  parseNginxProxyErrors,
  parseProxyBackendLog,
  type ProxyBackendKind,
  type ProxyBackendLog,
} from '../checks/proxy-backend-log.ts';
import { shellQuote, writeGuestFile, type GuestShell } from '../remote/guest-shell.ts';

/**
 * Backends that read the PROXY protocol header in userspace, from the guest's own packages:
 * nginx (`listen … proxy_protocol`, trusting the header only from the balancer through the
 * realip module) and HAProxy (`bind … accept-proxy`, connections from anywhere but the
 * balancer rejected before the header is read). Each logs one `toa-lab-proxy` line per request
 * (harness/checks/proxy-backend-log.ts) — the verdict's evidence — and says why it refused a
 * header (nginx's error log; HAProxy's connection-error line).
 *
 * They run beside the guide's backends, on their own ports and files, so nothing the
 * procedure set up changes.
 */
export interface ProxyBackendConfig {
  port: number;
  /** The one source whose header is believed: the balancer (a /32 — no wider trust than needed). */
  trustedSource: string;
}

export const NGINX_PROXY = Object.freeze({
  port: 8081,
  site: '/etc/nginx/conf.d/toa-lab-proxy.conf',
  accessLog: '/var/log/toa-lab/nginx-proxy-access.log',
  errorLog: '/var/log/toa-lab/nginx-proxy-error.log',
});

export const HAPROXY_PROXY = Object.freeze({
  port: 8082,
  config: '/etc/toa-lab/haproxy-proxy.cfg',
  /** HAProxy runs in the foreground (`-db`) and logs to stdout, which goes here. */
  log: '/var/log/toa-lab/haproxy-proxy.log',
  statsSocket: '/run/toa-lab-haproxy.sock',
  pidFile: '/run/toa-lab-haproxy.pid',
  /** The frontend's name: its row in `show stat`. */
  frontend: 'toa_lab_proxy',
});

/**
 * nginx (1.22 on Debian 12): the header is always parsed on this listener
 * ($proxy_protocol_addr), but realip makes it the client ($remote_addr, $remote_port) only when
 * the connection comes from `set_real_ip_from`. `error_log … info` keeps nginx's reason for
 * every refused header (some are logged at info level).
 */
export function renderNginxProxySite(config: ProxyBackendConfig = { port: NGINX_PROXY.port, trustedSource: '192.0.2.2' }): string {
  const format = [
    'toa-lab-proxy backend=nginx',
    'remote=$remote_addr remote_port=$remote_port',
    'proxy=$proxy_protocol_addr proxy_port=$proxy_protocol_port',
    'peer=$realip_remote_addr status=$status uri=$request_uri',
  ].join(' ');
  return [
    '# toa-lab: a PROXY protocol backend (harness/guest/proxy-backends.ts)',
    `log_format toa_lab_proxy '${format}';`,
    'server {',
    `    listen ${config.port} proxy_protocol;`,
    '    server_name _;',
    `    set_real_ip_from ${config.trustedSource}/32;`,
    '    real_ip_header proxy_protocol;',
    `    access_log ${NGINX_PROXY.accessLog} toa_lab_proxy;`,
    `    error_log ${NGINX_PROXY.errorLog} info;`,
    '    location / {',
    '        return 200 "toa-lab proxy backend\\n";',
    '    }',
    '}',
    '',
  ].join('\n');
}

/**
 * HAProxy (2.6 on Debian 12) answering by itself (`http-request return`: no server behind it).
 * - `tcp-request connection` rules run right after accept(), before `accept-proxy` reads the
 *   header, so `src` there is the real peer: anything but the balancer is rejected and counted
 *   (`dcon` in `show stat`) without its header ever being read.
 * - `log-format` names the client HAProxy believes (%ci:%cp) and the v2 TLVs it read
 *   (fc_pp_authority, fc_pp_unique_id); `error-log-format` is its line for a connection that
 *   failed before a request (a refused header), with fc_err_str's reason.
 */
export function renderHaproxyConfig(config: ProxyBackendConfig = { port: HAPROXY_PROXY.port, trustedSource: '192.0.2.2' }): string {
  const request = 'toa-lab-proxy backend=haproxy remote=%ci remote_port=%cp status=%ST uri=%HU authority=%[fc_pp_authority] unique_id=%[fc_pp_unique_id,hex]';
  const error = 'toa-lab-proxy-error backend=haproxy remote=%ci remote_port=%cp error=%{+Q}[fc_err_str]';
  return [
    '# toa-lab: a PROXY protocol backend (harness/guest/proxy-backends.ts)',
    'global',
    // One thread: with two, a request's line was sometimes missing from the stdout log (seen on
    // Debian 12, mid-round), as if two threads wrote at one offset (stdout has lost O_APPEND, below).
    '    nbthread 1',
    '    log stdout format raw local0 info',
    `    stats socket ${HAPROXY_PROXY.statsSocket} mode 600 level user`,
    'defaults',
    '    mode http',
    '    log global',
    '    timeout connect 5s',
    // A TCG guest can be slow; a header that never completes is ended by its FIN, not by this.
    '    timeout client 60s',
    '    timeout server 5s',
    `frontend ${HAPROXY_PROXY.frontend}`,
    `    bind :${config.port} accept-proxy`,
    `    tcp-request connection reject if !{ src ${config.trustedSource} }`,
    `    log-format "${request}"`,
    `    error-log-format "${error}"`,
    '    http-request return status 200 content-type text/plain string "toa-lab proxy backend"',
    '',
  ].join('\n');
}

/** One running backend: its port, and its evidence. */
export interface ProxyBackend {
  kind: ProxyBackendKind;
  label: string;
  port: number;
  /** Empties its logs (before a round, so the round's lines are all there is). */
  clearLogs(): Promise<void>;
  /** Its request lines and refusals since the last clearLogs. */
  readLog(): Promise<ProxyBackendLog & { raw: string }>;
  /** HAProxy: connections denied by `tcp-request connection` so far (`dcon`); nginx has no such counter. */
  deniedConnections?(): Promise<number | undefined>;
}

/**
 * The backends a guest can run (found by `command -v`), started on first use: a scenario that
 * is not selected costs nothing.
 */
export class ProxyProtocolBackends {
  private started: Promise<ProxyBackend[]> | undefined;

  private constructor(
    private readonly guest: GuestShell,
    readonly available: readonly ProxyBackendKind[],
    private readonly trustedSource: string,
  ) {}

  /** Undefined when the guest has neither nginx nor haproxy (a micro-VM's busybox). */
  static async detect(guest: GuestShell, trustedSource: string): Promise<ProxyProtocolBackends | undefined> {
    const found = await guest.run('for b in nginx haproxy; do command -v "$b" >/dev/null 2>&1 && echo "$b"; done; true');
    const available = found.stdout.split('\n').filter((b): b is ProxyBackendKind => b === 'nginx' || b === 'haproxy');
    return available.length ? new ProxyProtocolBackends(guest, available, trustedSource) : undefined;
  }

  /** Starts every available backend once; later calls get the same backends (or the same error). */
  start(): Promise<ProxyBackend[]> {
    this.started ??= (async () => {
      const backends: ProxyBackend[] = [];
      // One after the other: both are quick, and a slow TCG guest's shell is not made to juggle.
      for (const kind of this.available) backends.push(kind === 'nginx' ? await this.startNginx() : await this.startHaproxy());
      return backends;
    })();
    return this.started;
  }

  private async startNginx(): Promise<ProxyBackend> {
    const guest = this.guest;
    const { port, accessLog, errorLog, site } = NGINX_PROXY;
    await writeGuestFile(guest, site, renderNginxProxySite({ port, trustedSource: this.trustedSource }));
    const started = await guest.run(
      [
        `mkdir -p /var/log/toa-lab && : > ${accessLog} && : > ${errorLog}`,
        'nginx -t 2>&1 || exit 3',
        // The guide's nginx backend may be running (reload) or not (restart).
        'systemctl reload-or-restart nginx 2>&1 || exit 4',
        waitListening(port),
      ].join('\n'),
      { timeoutMs: 60_000 },
    );
    if (started.exitCode !== 0) throw new Error(`nginx with proxy_protocol on :${port} did not start (exit ${started.exitCode}): ${(started.stdout + started.stderr).trim()}`);
    const clear = `: > ${accessLog} && : > ${errorLog}`;
    return {
      kind: 'nginx',
      label: `nginx :${port} (listen proxy_protocol, set_real_ip_from ${this.trustedSource}/32)`,
      port,
      clearLogs: async () => void (await guest.check(clear)),
      readLog: async () => {
        // Both files in one command (a TCG guest's SSH round trip is the cost of a round).
        const both = (await guest.check(`cat ${accessLog}; echo ${LOG_SEPARATOR}; cat ${errorLog}`)).stdout;
        const at = both.indexOf(`${LOG_SEPARATOR}\n`);
        const [access, errors] = at < 0 ? [both, ''] : [both.slice(0, at), both.slice(at + LOG_SEPARATOR.length + 1)];
        const parsed = parseProxyBackendLog(access);
        return { requests: parsed.requests, refusals: parseNginxProxyErrors(errors), raw: `${access}${errors}` };
      },
    };
  }

  private async startHaproxy(): Promise<ProxyBackend> {
    const guest = this.guest;
    const { port, config, log, pidFile, statsSocket, frontend } = HAPROXY_PROXY;
    await writeGuestFile(guest, config, renderHaproxyConfig({ port, trustedSource: this.trustedSource }));
    const started = await guest.run(
      [
        `mkdir -p /var/log/toa-lab && : > ${log}`,
        `haproxy -c -f ${config} 2>&1 || exit 3`,
        // Our own instance beside the package's service (which, configured with no frontend, listens on nothing).
        `nohup haproxy -db -f ${config} >>${log} 2>&1 </dev/null &`,
        `echo $! > ${pidFile}`,
        waitListening(port, `kill -0 $(cat ${pidFile}) 2>/dev/null || { cat ${log}; exit 5; }`),
      ].join('\n'),
      { timeoutMs: 60_000 },
    );
    if (started.exitCode !== 0) throw new Error(`HAProxy with accept-proxy on :${port} did not start (exit ${started.exitCode}): ${(started.stdout + started.stderr).trim()}`);
    const showStat = `python3 -c ${shellQuote(
      'import socket,sys;s=socket.socket(socket.AF_UNIX);s.connect(sys.argv[1]);s.sendall(b"show stat\\n");sys.stdout.write(s.makefile().read())',
    )} ${statsSocket}`;
    // Never truncated: HAProxy makes its stdout non-blocking with F_SETFL, which drops the
    // O_APPEND of `>>`, so after a truncation its next line lands at the old offset behind NULs
    // (seen on Debian 12: the first line of every round was lost). A round reads from where the
    // file ended when it began.
    let from = 0;
    return {
      kind: 'haproxy',
      label: `HAProxy :${port} (bind accept-proxy, only ${this.trustedSource})`,
      port,
      clearLogs: async () => {
        from = Number((await guest.check(`stat -c %s ${log}`)).stdout.trim());
      },
      readLog: async () => {
        const text = (await guest.check(`tail -c +${from + 1} ${log}`)).stdout;
        return { ...parseProxyBackendLog(text), raw: text };
      },
      deniedConnections: async () => haproxyFrontendCounter((await guest.check(showStat)).stdout, frontend, 'dcon'),
    };
  }
}

/** Between nginx's access and error logs in one read: a line neither writes. */
const LOG_SEPARATOR = '--toa-lab-log-separator--';

/** Waits up to 30 s until something listens on the TCP port; `eachTry` may exit early (a process that died). */
function waitListening(port: number, eachTry = ''): string {
  return [
    'i=0',
    `until ss -Hltn "sport = :${port}" | grep -q .; do`,
    ...(eachTry ? [`  ${eachTry}`] : []),
    '  i=$((i + 1))',
    `  [ "$i" -le 300 ] || { echo "nothing listens on :${port} after 30 s"; exit 6; }`,
    '  sleep 0.1',
    'done',
  ].join('\n');
}
