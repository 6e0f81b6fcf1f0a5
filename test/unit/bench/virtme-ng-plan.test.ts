import { describe, expect, it } from 'vitest';
import {
  diagnosis,
  parseQemuVersion,
  parseVngVersion,
  pinned,
  readVngRun,
  roundOrder,
  sandboxArgv,
  summarise,
  timedLines,
  virtmeChrootPackages,
  verboseArgv,
  virtmeRounds,
  vngArgv,
  type SideBySideRound,
} from '../../../bench/virtme-ng-plan.ts';

const RELEASE = '6.12.117+deb13-amd64';

describe('the virtme-ng chroot', () => {
  it('holds virtme-ng, QEMU, and what its init needs of a Debian host (static busybox, udev, poweroff, ip)', () => {
    expect(virtmeChrootPackages()).toEqual(['virtme-ng', 'qemu-system-x86', 'busybox-static', 'udev', 'systemd-sysv', 'iproute2']);
  });

  it('pins each package as apt does', () => {
    expect(pinned({ name: 'qemu-system-x86', version: '1:10.0.13+ds-0+deb13u1' })).toBe('qemu-system-x86=1:10.0.13+ds-0+deb13u1');
  });
});

describe('vngArgv', () => {
  it('boots the image under TCG with the micro-VM shape and runs one command', () => {
    expect(vngArgv({ kernelImage: `/boot/vmlinuz-${RELEASE}`, command: 'uname -r', cpus: 2, memoryMiB: 512 })).toEqual([
      'vng',
      '--run',
      `/boot/vmlinuz-${RELEASE}`,
      '--disable-kvm',
      '--cpus',
      '2',
      '--memory',
      '512M',
      '--exec',
      'uname -r',
    ]);
  });
});

describe('a failed run, said why', () => {
  it('is rerun with the boot console shown', () => {
    expect(verboseArgv(['vng', '--run', 'k', '--exec', 'uname -r'])).toEqual(['vng', '--verbose', '--run', 'k', '--exec', 'uname -r']);
  });

  it("quotes virtme's own lines and the kernel's panic from that console", () => {
    // From a real run in a chroot without udev (15:33 UTC): the command never ran.
    const console = [
      '[    4.874316] virtme initramfs: mounting hostfs...',
      '[    5.101314] virtme initramfs: done; switching to real root',
      '[   14.118300] virtme-init: udevd not found',
      "/usr/lib/python3/dist-packages/virtme/guest/virtme-init: line 235: ip: command not found",
      '[   16.282262] evm: overlay not supported',
      'virtme-init: cannot find script I/O ports; make sure virtio-serial is available',
      '[   18.697550] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100',
      '[   18.708676]  dump_stack_lvl+0x5d/0x80',
    ].join('\n');
    expect(diagnosis(console, 4)).toEqual([
      '[   14.118300] virtme-init: udevd not found',
      '/usr/lib/python3/dist-packages/virtme/guest/virtme-init: line 235: ip: command not found',
      'virtme-init: cannot find script I/O ports; make sure virtio-serial is available',
      '[   18.697550] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100',
    ]);
    expect(diagnosis('')).toEqual([]);
  });
});

describe('sandboxArgv', () => {
  const [command, args] = sandboxArgv('/cache/virtme-ng-chroot/abc/rootfs', ['vng', '--version']);

  it('runs in a private mount and PID namespace that dies with its first process', () => {
    expect(command).toBe('unshare');
    expect(args.slice(0, args.indexOf('bash'))).toEqual(['--mount', '--propagation', 'private', '--pid', '--fork', '--kill-child']);
  });

  it('passes the root and the command as arguments, never inside the script', () => {
    const script = args[args.indexOf('-ec') + 1]!;
    expect(args.slice(args.indexOf('-ec') + 2)).toEqual(['bash', '/cache/virtme-ng-chroot/abc/rootfs', 'vng', '--version']);
    expect(script).not.toContain('/cache/');
    for (const mount of ['proc "$R/proc"', '--rbind /sys "$R/sys"', '--rbind /dev "$R/dev"', 'tmpfs "$R/tmp"', 'tmpfs "$R/run"']) expect(script).toContain(mount);
    expect(script).toMatch(/^chroot "\$R" \/usr\/bin\/env -i PATH=\S+ HOME=\/root .*"\$@" 2> >\(cat >&2\) \| cat$/m);
  });

  it('gives the command real pipes (virtme-run reopens /proc/self/fd/1) and exits with its status, not cat\'s', () => {
    const script = args[args.indexOf('-ec') + 1]!;
    expect(script.split('\n').slice(-4)).toEqual(['chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb LC_ALL=C.UTF-8 "$@" 2> >(cat >&2) | cat', 'rc=${PIPESTATUS[0]}', 'wait', 'exit "$rc"']);
  });
});

describe('timedLines', () => {
  it('splits chunks into lines, timing each by the chunk that ended it', () => {
    expect(
      timedLines([
        { atMs: 10, text: 'virtme: wait' },
        { atMs: 20, text: 'ing\r\n6.12.117' },
        { atMs: 30, text: '+deb13-amd64\n' },
        { atMs: 40, text: 'no newline' },
      ]),
    ).toEqual([
      { atMs: 20, text: 'virtme: waiting' },
      { atMs: 30, text: RELEASE },
      { atMs: 40, text: 'no newline' },
    ]);
  });

  it('gives nothing for no output', () => {
    expect(timedLines([])).toEqual([]);
  });
});

describe('readVngRun', () => {
  const line = (atMs: number, text: string) => ({ atMs, text });

  it('times boot to command by the guest line that names the expected release, and to exit', () => {
    expect(readVngRun({ stdout: [line(100, 'noise'), line(28_400, RELEASE)], stderr: '', exitCode: 0, exitMs: 31_050 }, RELEASE)).toEqual({
      commandSeconds: 28.4,
      exitSeconds: 31.05,
    });
  });

  it('refuses another kernel: the comparison is on one kernel', () => {
    expect(() => readVngRun({ stdout: [line(5, '6.1.0-57-amd64')], stderr: '', exitCode: 0, exitMs: 9 }, RELEASE)).toThrow(/never printed 6\.12\.117\+deb13-amd64[^]*6\.1\.0-57-amd64/);
  });

  it('refuses a failed run, quoting what vng said', () => {
    expect(() =>
      readVngRun({ stdout: [], stderr: 'virtme-run: initramfs is needed, and no busybox was found\n', exitCode: 1, exitMs: 900 }, RELEASE),
    ).toThrow(/vng exited with 1:\nvirtme-run: initramfs is needed, and no busybox was found/);
    expect(() => readVngRun({ stdout: [line(1, RELEASE)], stderr: '(killed after 300 s)', exitCode: null, exitMs: 300_000 }, RELEASE)).toThrow(
      /exited with a signal[^]*killed after 300 s/,
    );
  });
});

describe('versions', () => {
  it('reads vng --version', () => {
    expect(parseVngVersion('virtme-ng 1.35\n')).toBe('1.35');
    expect(parseVngVersion('usage: vng')).toBeUndefined();
  });

  it('reads qemu-system-x86_64 --version', () => {
    expect(parseQemuVersion('QEMU emulator version 10.0.13 (Debian 1:10.0.13+ds-0+deb13u1)\nCopyright (c) 2003-2025 Fabrice Bellard\n')).toBe(
      '10.0.13 (Debian 1:10.0.13+ds-0+deb13u1)',
    );
    expect(parseQemuVersion('QEMU emulator version 7.2.19 (Debian 1:7.2+dfsg-7+deb12u18)')).toBe('7.2.19 (Debian 1:7.2+dfsg-7+deb12u18)');
  });
});

describe('rounds', () => {
  it('alternate which tool goes first', () => {
    expect([0, 1, 2, 3].map(roundOrder)).toEqual(['virtme-ng', 'toa-lab', 'virtme-ng', 'toa-lab']);
  });

  it('come from BENCH_VIRTME_ROUNDS, 3 by default', () => {
    expect(virtmeRounds({})).toBe(3);
    expect(virtmeRounds({ BENCH_VIRTME_ROUNDS: '' })).toBe(3);
    expect(virtmeRounds({ BENCH_VIRTME_ROUNDS: '5' })).toBe(5);
    expect(() => virtmeRounds({ BENCH_VIRTME_ROUNDS: '0' })).toThrow(/positive integer/);
    expect(() => virtmeRounds({ BENCH_VIRTME_ROUNDS: 'three' })).toThrow(/"three"/);
  });
});

describe('summarise', () => {
  const round = (virtme: number, ready: number, verdict: number): SideBySideRound => ({
    first: 'virtme-ng',
    loadAverage: 0.5,
    otherQemu: 0,
    virtme: { commandSeconds: virtme, exitSeconds: virtme + 2 },
    toaLab: { readySeconds: ready, firstVerdictSeconds: verdict },
  });

  it('gives medians, and toa-lab / virtme-ng as the medians’ ratio and per round', () => {
    const s = summarise([round(30, 6, 9), round(20, 4, 5), round(25, 5, 10)]);
    expect(s.virtmeCommand).toBe(25);
    expect(s.virtmeExit).toBe(27);
    expect(s.toaLabReady).toBe(5);
    expect(s.toaLabFirstVerdict).toBe(9);
    expect(s.readyRatio).toBeCloseTo(0.2);
    expect(s.firstVerdictRatio).toBeCloseTo(0.36);
    expect(s.readyRatios).toEqual([0.2, 0.2, 0.2]);
    expect(s.firstVerdictRatios).toEqual([0.3, 0.25, 0.4]);
  });

  it('refuses no rounds', () => {
    expect(() => summarise([])).toThrow(/median of no runs/);
  });
});
