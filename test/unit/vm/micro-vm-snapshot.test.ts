import { describe, expect, it } from 'vitest';
import { cleanStateProblems, parseCleanState, snapshotKey } from '../../../harness/vm/micro-vm-snapshot.ts';
import { startMode } from '../../../harness/vm/micro-vm.ts';
import { buildQemuArgs, type QemuMachineSpec } from '../../../harness/vm/qemu/qemu-args.ts';

const spec: QemuMachineSpec = {
  accelerator: 'tcg',
  tcgThreading: 'single',
  memoryMiB: 512,
  cpus: 2,
  boot: { kind: 'kernel', kernel: '/cache/microvm-bookworm/abc/vmlinuz', initrd: '/cache/microvm-bookworm/abc/initrd.cpio', kernelCommandLine: 'console=ttyS0' },
  consoleLog: '/run/a/console.log',
  agentSocket: '/run/a/agent.sock',
  labWire: { socket: '/run/a/wire.sock', mac: '52:54:00:00:02:0a' },
  pidFile: '/run/a/qemu.pid',
};

// The shape of a freshly booted micro-VM's answer (cleanStateEvidence's command); below, one that served a connection.
const CLEAN =
  'virtio_net\nnet_failover\nfailover\n@@\n' +
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n' +
  '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n' +
  '@@\nIp: Forwarding DefaultTTL InReceives InHdrErrors\nIp: 2 64 0 0\n' +
  'Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors\n' +
  'Tcp: 1 200 120000 -1 0 0 0 0 0 0 0 0 0 0 0\n@@\ninit\nsh\ntoa-agent\nkthreadd\n';

describe('micro-VM snapshots', () => {
  it('saves only a guest that never loaded toa.ko, never opened a TCP connection and runs no backend', () => {
    const clean = parseCleanState(CLEAN);
    expect(clean).toMatchObject({ tcpSockets: 0, tcpActiveOpens: 0, tcpPassiveOpens: 0, ipInReceives: 0, modules: ['virtio_net', 'net_failover', 'failover'] });
    expect(cleanStateProblems(clean)).toEqual([]);

    const used = parseCleanState(
      CLEAN.replace('virtio_net\n', 'toa\nvirtio_net\n')
        .replace('inode\n@@', 'inode\n   0: 0A0200C0:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1234\n@@')
        .replace('-1 0 0 0', '-1 0 3 0')
        .replace('Ip: 2 64 0 0', 'Ip: 2 64 7 0')
        .replace('toa-agent\n', 'toa-agent\ntoa-backend\n'),
    );
    const problems = cleanStateProblems(used).join('\n');
    expect(problems).toMatch(/TOA module is loaded/);
    expect(problems).toMatch(/1 TCP socket/);
    expect(problems).toMatch(/PassiveOpens 3\): the TCP secrets are drawn/);
    expect(problems).toMatch(/toa-backend is running/);
    expect(problems).toMatch(/Ip InReceives 7/);
    // An unreadable counter is not taken for zero.
    expect(cleanStateProblems(parseCleanState(CLEAN.replace(/Tcp:.*\nTcp:.*\n/, '')))).toHaveLength(1);
    expect(cleanStateProblems(parseCleanState(CLEAN.replace(/Ip:.*\nIp:.*\n/, '')))).toHaveLength(1);
  });

  it('is keyed by the image, QEMU and the machine options that shape the saved state, not by per-run paths', () => {
    const reseed = { path: '/x', hash: 'r1' };
    const key = snapshotKey('microvm-bookworm', spec, 'QEMU emulator version 7.2.22', reseed);
    expect(key.kind).toBe('snapshots/microvm-bookworm');
    const same = snapshotKey('microvm-bookworm', { ...spec, consoleLog: '/run/b/console.log', agentSocket: '/run/b/agent.sock' }, 'QEMU emulator version 7.2.22', reseed);
    expect(same.recipe).toEqual(key.recipe);
    for (const other of [
      snapshotKey('microvm-bookworm', { ...spec, memoryMiB: 1024 }, 'QEMU emulator version 7.2.22', reseed),
      snapshotKey('microvm-bookworm', { ...spec, cpus: 1 }, 'QEMU emulator version 7.2.22', reseed),
      snapshotKey('microvm-bookworm', { ...spec, tcgThreading: 'multi' }, 'QEMU emulator version 7.2.22', reseed),
      snapshotKey('microvm-bookworm', { ...spec, boot: { ...spec.boot, initrd: '/cache/microvm-bookworm/def/initrd.cpio' } as QemuMachineSpec['boot'] }, 'QEMU emulator version 7.2.22', reseed),
      snapshotKey('microvm-bookworm', spec, 'QEMU emulator version 8.2.2', reseed),
      snapshotKey('microvm-bookworm', spec, 'QEMU emulator version 7.2.22', { path: '/x', hash: 'r2' }),
    ]) {
      expect(other.recipe).not.toEqual(key.recipe);
    }
  });

  it('restores only when asked, and TOA_LAB_COLD_BOOT=1 boots whatever was asked', () => {
    expect(startMode(undefined, {}).mode).toBe('boot');
    expect(startMode('snapshot', {}).mode).toBe('snapshot');
    expect(startMode('snapshot', { TOA_LAB_COLD_BOOT: '1' })).toEqual({ mode: 'boot', why: 'forced by TOA_LAB_COLD_BOOT' });
    expect(startMode('snapshot', { TOA_LAB_COLD_BOOT: '0' }).mode).toBe('snapshot');
  });

  it('gives QEMU the saved guest, a console appended to, a QMP socket, and no post-migration announcements', () => {
    const args = buildQemuArgs({ ...spec, consoleAppend: true, qmpSocket: '/run/a/qmp.sock', incomingMigration: "exec:cat '/c/guest.state'" });
    const at = (flag: string): string[] => args.flatMap((a, i) => (a === flag ? [args[i + 1]!] : []));
    expect(at('-chardev')).toContain('file,id=console,path=/run/a/console.log,append=on');
    expect(at('-chardev')).toContain('socket,id=qmp,path=/run/a/qmp.sock,server=on,wait=off');
    expect(at('-mon')).toEqual(['chardev=qmp,mode=control']);
    expect(at('-incoming')).toEqual(["exec:cat '/c/guest.state'"]);
    expect(at('-global')).toEqual(['migration.announce-rounds=0']);
    // A boot is unchanged: none of it.
    const plain = buildQemuArgs(spec);
    expect(plain).not.toContain('-incoming');
    expect(plain).not.toContain('-mon');
    expect(plain).toContain('file,id=console,path=/run/a/console.log');
  });
});
