import { profileById, renderProcedure, type GuestFile } from '../os/index.ts';

/**
 * Guide step 8's persistence: "Add the modprobe toa command to both the startup
 * script and the system scheduled monitoring script". The files are the ones
 * harness/os renders for CentOS 6.8 (the golden autoload step):
 * /etc/sysconfig/modules/toa.modules, which rc.sysinit runs at boot, and
 * /etc/cron.d/toa, which runs `/sbin/modprobe toa` every minute (a no-op while
 * the module is loaded; loads it again when it is not).
 */
export interface AutoloadFiles {
  startupScript: GuestFile;
  cronFile: GuestFile;
  /** The cron.d line as busybox crond wants it: a user crontab (no user field). */
  rootCrontab: GuestFile;
  /** The command cron runs: what the verification runs by hand after rmmod. */
  monitorCommand: string;
}

export function centos6AutoloadFiles(): AutoloadFiles {
  const autoload = renderProcedure(profileById('centos-6.8'), {
    toaSourceDir: '/root/toa',
    vips: ['192.0.2.100'],
    backend: { port: 80, kind: 'python', accessLog: '/var/log/toa-lab/backend-access.log' },
  }).find((step) => step.id === 'autoload');
  const files = autoload?.files ?? [];
  const startupScript = files.find((f) => f.path === '/etc/sysconfig/modules/toa.modules');
  const cronFile = files.find((f) => f.path.startsWith('/etc/cron.d/'));
  if (!startupScript || !cronFile) throw new Error('harness/os no longer renders toa.modules and a cron.d file for centos-6.8');
  const lines = cronFile.content.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
  if (lines.length !== 1) throw new Error(`${cronFile.path}: expected one cron line, found ${lines.length}`);
  const job = parseSystemCronLine(lines[0]!);
  if (job.user !== 'root') throw new Error(`${cronFile.path}: the job runs as ${job.user}, not root`);
  return {
    startupScript,
    cronFile,
    rootCrontab: { path: '/var/spool/cron/crontabs/root', content: `${job.schedule} ${job.command}\n`, mode: 0o600 },
    monitorCommand: job.command,
  };
}

/** A /etc/cron.d line: five time fields (or an @keyword), the user, the command. */
export function parseSystemCronLine(line: string): { schedule: string; user: string; command: string } {
  const words = line.trim().split(/\s+/);
  const timeFields = words[0]?.startsWith('@') ? 1 : 5;
  if (words.length < timeFields + 2) throw new Error(`not a cron.d line (schedule, user, command): ${JSON.stringify(line)}`);
  return {
    schedule: words.slice(0, timeFields).join(' '),
    user: words[timeFields]!,
    command: words.slice(timeFields + 1).join(' '),
  };
}

/** The same two places on the lab's Debian 12 image (no busybox crond, so no root crontab). */
export type DebianAutoloadFiles = Omit<AutoloadFiles, 'rootCrontab'>;

/**
 * Guide step 8's persistence on Debian 12, in Debian's own way (harness/os's
 * Debian profiles use the same file): the startup script is
 * /etc/modules-load.d/toa.conf, which systemd-modules-load reads at boot and
 * loads by name — modprobe, so the running kernel's in-tree module; the
 * monitor is the CentOS 6.8 /etc/cron.d/toa unchanged, since Debian's cron
 * reads /etc/cron.d itself (the user field included).
 */
export function debian12AutoloadFiles(): DebianAutoloadFiles {
  const { cronFile, monitorCommand } = centos6AutoloadFiles();
  return {
    startupScript: { path: '/etc/modules-load.d/toa.conf', content: 'toa\n', mode: 0o644 },
    cronFile,
    monitorCommand,
  };
}
