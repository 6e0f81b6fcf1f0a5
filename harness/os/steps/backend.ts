import { ensurePackageLines, packageFunctionLines } from '../package-managers.ts';
import type { OsProfile } from '../profile.ts';
import type { ProcedureStep, RenderContext } from '../procedure.ts';
import { EXIT_CODES, type GuestFile, listeningFunctionLines, shScript, waitUntilLines, writeFileLines } from '../shell.ts';

/** How long a slow (TCG) guest gets for the backend to listen. */
const LISTEN_TIMEOUT_SECONDS = 30;

/** The guides' verification command for a profile: `python -m SimpleHTTPServer 80`. */
export function pythonCommand(profile: OsProfile, port: number): string {
  return `${profile.python.command} ${port}`;
}

/**
 * Huawei guide, "Verify the module": a backend whose own access log shows the client
 * address — the guide's Python server, or nginx — started in the background and
 * waited for until it listens.
 */
export function renderBackend(context: RenderContext): ProcedureStep {
  const { profile, options } = context;
  const { port, kind } = options.backend;
  const rendered = kind === 'nginx' ? nginx(context) : python(context);
  return {
    id: 'backend',
    name: rendered.name,
    interpreter: '/bin/sh',
    script: shScript(`backend on ${profile.displayName}: ${rendered.name}`, rendered.body),
    ...(rendered.files.length > 0 ? { files: rendered.files } : {}),
    verify: shScript(`verify the backend listens on ${profile.displayName}`, [
      ...listeningFunctionLines(port),
      `listening || die ${EXIT_CODES.failure} "nothing listens on TCP port ${port}"`,
    ]),
  };
}

interface RenderedBackend {
  name: string;
  body: string[];
  files: GuestFile[];
}

function logDirectory(accessLog: string): string {
  return accessLog.slice(0, accessLog.lastIndexOf('/')) || '/';
}

/** Fails early when the port is taken: the server would die with "Address already in use" anyway. */
function portFreeLines(port: number): string[] {
  return ['if listening; then', `  die ${EXIT_CODES.precondition} "something already listens on TCP port ${port}"`, 'fi'];
}

function untilListeningLines(port: number, eachTry: readonly string[]): string[] {
  const timeout = `die ${EXIT_CODES.failure} "nothing listens on TCP port ${port} after ${LISTEN_TIMEOUT_SECONDS} s"`;
  return waitUntilLines('listening', LISTEN_TIMEOUT_SECONDS, timeout, eachTry);
}

/**
 * `python -m SimpleHTTPServer PORT` / `python3 -m http.server PORT`, exactly the guide's
 * command. Its request log goes to stderr, redirected to the access log.
 * - PYTHONUNBUFFERED=1: Python 3 before 3.9 block-buffers a redirected stderr, so log lines
 *   would appear late or never; the command itself stays the guide's.
 * - Served from an empty directory, not from wherever the harness's shell happens to be.
 */
function python({ profile, options }: RenderContext): RenderedBackend {
  const { port, accessLog } = options.backend;
  const command = pythonCommand(profile, port);
  const interpreter = profile.python.command.split(' ')[0]!;
  const pidFile = `/var/run/toa-lab-backend-${port}.pid`;
  return {
    name: command,
    files: [],
    body: [
      ...packageFunctionLines(profile.packageManager),
      `command -v ${interpreter} >/dev/null 2>&1 || {`,
      ...ensurePackageLines(profile.python.package, `the backend runs '${command}'`).map((line) => `  ${line}`),
      '}',
      ...listeningFunctionLines(port),
      ...portFreeLines(port),
      `mkdir -p ${logDirectory(accessLog)} /srv/toa-lab-www`,
      'cd /srv/toa-lab-www',
      `PYTHONUNBUFFERED=1 nohup ${command} >>${accessLog} 2>&1 </dev/null &`,
      'pid=$!',
      `echo "$pid" > ${pidFile}`,
      ...untilListeningLines(port, [
        'kill -0 "$pid" 2>/dev/null || {',
        `  tail -n 20 ${accessLog} >&2`,
        `  die ${EXIT_CODES.failure} "'${command}' exited (log above)"`,
        '}',
      ]),
      `echo "toa-lab: '${command}' (pid $pid) listens on port ${port}, log ${accessLog}"`,
    ],
  };
}

export const NGINX_SITE = '/etc/nginx/conf.d/toa-lab-backend.conf';

/**
 * A server block on the port with `access_log <path> combined`. default_server, so a
 * request for the VIP (any Host) reaches it; Debian/Ubuntu's default site claims
 * `listen 80 default_server` too and is disabled. (EL's nginx.conf has its own default server
 * on port 80: `nginx -t` then fails with "duplicate default server" — a clear verdict.)
 */
function nginx({ profile, options }: RenderContext): RenderedBackend {
  const { port, accessLog } = options.backend;
  const site: GuestFile = {
    path: NGINX_SITE,
    content: [
      'server {',
      `    listen ${port} default_server;`,
      '    server_name _;',
      `    access_log ${accessLog} combined;`,
      '    location / {',
      '        return 200 "toa-lab backend\\n";',
      '    }',
      '}',
      '',
    ].join('\n'),
    mode: 0o644,
  };
  const restart =
    profile.init === 'systemd'
      ? `systemctl restart nginx || die ${EXIT_CODES.failure} "systemctl restart nginx failed"`
      : `service nginx restart || die ${EXIT_CODES.failure} "service nginx restart failed"`;
  return {
    name: `nginx on port ${port}, access_log ${accessLog} combined`,
    files: [site],
    body: [
      ...packageFunctionLines(profile.packageManager),
      ...ensurePackageLines('nginx', 'the nginx backend'),
      ...listeningFunctionLines(port),
      `mkdir -p ${logDirectory(accessLog)}`,
      ...writeFileLines(site),
      'rm -f /etc/nginx/sites-enabled/default',
      `nginx -t || die ${EXIT_CODES.failure} "nginx rejects its configuration"`,
      restart,
      ...untilListeningLines(port, []),
      `echo "toa-lab: nginx listens on port ${port}, log ${accessLog}"`,
    ],
  };
}
