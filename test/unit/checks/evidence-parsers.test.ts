import { describe, expect, it } from 'vitest';
import { parseBackendLog, parseEndpoint } from '../../../harness/checks/backend-log.ts';
import { findKernelFaults } from '../../../harness/checks/kernel-faults.ts';
import { parseToaStats } from '../../../harness/checks/toa-stats.ts';

describe('parseBackendLog', () => {
  it('reads the connection lines and ignores everything else', () => {
    const records = parseBackendLog(
      [
        'toa-backend listening family=4 port=80',
        'conn peer=198.51.100.7:40001 accept=198.51.100.7:40001 local=192.0.2.10:80 method=GET path=/ status=200 req_bytes=0 req_fnv=cbf29ce484222325 resp_bytes=3 resp_fnv=0123456789abcdef',
        'conn peer=[2001:db8::7]:443 accept=[2001:db8::7]:443 local=[2001:db8::10]:80 method=- path=- status=0 req_bytes=0 req_fnv=cbf29ce484222325 resp_bytes=0 resp_fnv=cbf29ce484222325',
      ].join('\n'),
    );
    expect(records).toHaveLength(2);
    expect(records[0]!.peer).toEqual({ ip: '198.51.100.7', port: 40001 });
    expect(records[0]!.responseBytes).toBe(3);
    expect(records[1]!.accept).toEqual({ ip: '2001:db8::7', port: 443 });
    expect(records[1]!.status).toBe(0);
  });

  it('says which field a damaged line lacks', () => {
    expect(() => parseBackendLog('conn peer=1.2.3.4:5')).toThrow(/no accept=/);
    expect(() => parseEndpoint('1.2.3.4')).toThrow(/not an ip:port/);
  });
});

describe('parseToaStats', () => {
  it('reads name/value lines', () => {
    expect(parseToaStats('syn_recv_sock_toa 3\nsyn_recv_sock_no_toa   12\ngetname_toa_ok: 4\n')).toEqual({
      syn_recv_sock_toa: 3,
      syn_recv_sock_no_toa: 12,
      getname_toa_ok: 4,
    });
  });
});

describe('findKernelFaults', () => {
  it('finds oopses and warnings, and nothing in a clean boot', () => {
    expect(findKernelFaults('[    0.1] Booting\n[    1.2] TOA: toa loaded\n')).toEqual([]);
    const faults = findKernelFaults(
      '[ 5.1] BUG: unable to handle page fault for address: ffff\n[ 5.2] Oops: 0000 [#1] PREEMPT SMP\n' +
        '[ 6.0] WARNING: CPU: 1 PID: 77 at net/ipv4/tcp.c:123 tcp_foo+0x1/0x2\n',
    );
    expect(faults.map((f) => f.kind)).toEqual(['oops', 'oops', 'warning']);
  });
});
