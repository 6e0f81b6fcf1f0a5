import { describe, expect, it } from 'vitest';
import { centos6AutoloadFiles, parseSystemCronLine } from '../../../harness/patched-kernel/autoload-files.ts';
import { ModprobeGuestShell } from '../../../harness/patched-kernel/patched-kernel-lab.ts';

describe('modprobe toa in the startup script and the cron monitor (guide step 8)', () => {
  it("takes harness/os's CentOS 6.8 files and runs the cron job as root's crontab for busybox crond", () => {
    const files = centos6AutoloadFiles();
    expect(files.startupScript.path).toBe('/etc/sysconfig/modules/toa.modules');
    expect(files.startupScript.content).toContain('/sbin/modprobe toa');
    expect(files.cronFile.content).toBe('* * * * * root /sbin/modprobe toa\n');
    expect(files.rootCrontab).toEqual({ path: '/var/spool/cron/crontabs/root', content: '* * * * * /sbin/modprobe toa\n', mode: 0o600 });
    expect(files.monitorCommand).toBe('/sbin/modprobe toa');
  });

  it('parses cron.d lines, @keywords included, and refuses others', () => {
    expect(parseSystemCronLine('*/5 * * * 1-5 root /usr/local/bin/check --quiet')).toEqual({ schedule: '*/5 * * * 1-5', user: 'root', command: '/usr/local/bin/check --quiet' });
    expect(parseSystemCronLine('@reboot root /sbin/modprobe toa')).toEqual({ schedule: '@reboot', user: 'root', command: '/sbin/modprobe toa' });
    expect(() => parseSystemCronLine('* * * * * /sbin/modprobe')).toThrow(/not a cron.d line/);
  });
});

describe('the patched-kernel lab loads toa the way the guide does', () => {
  const path = '/lib/modules/6.1.192-toa/kernel/net/toa/toa.ko';
  it('turns the scenarios\' insmod of the in-tree module into modprobe toa, parameters kept', () => {
    expect(ModprobeGuestShell.translate(`insmod ${path}`, path)).toBe('modprobe toa');
    expect(ModprobeGuestShell.translate(`insmod ${path} toa_kinds=254,200 trusted_sources=192.0.2.2`, path)).toBe('modprobe toa toa_kinds=254,200 trusted_sources=192.0.2.2');
  });
  it('leaves every other command alone', () => {
    expect(ModprobeGuestShell.translate('insmod /toa/toa.ko', path)).toBeNull();
    expect(ModprobeGuestShell.translate(`insmod ${path}x`, path)).toBeNull();
    expect(ModprobeGuestShell.translate('rmmod toa', path)).toBeNull();
  });
});
