import { describe, expect, it } from 'vitest';
import { haproxyFrontendCounter, parseNginxProxyErrors, parseProxyBackendLog } from '../../../harness/checks/proxy-backend-log.ts';

describe('PROXY backend logs', () => {
  it("reads nginx's request lines: the believed client, the header's claim, the real peer", () => {
    const log = parseProxyBackendLog(
      [
        'toa-lab-proxy backend=nginx remote=198.51.100.21 remote_port=41001 proxy=198.51.100.21 proxy_port=41001 peer=192.0.2.2 status=200 uri=/?conn=0',
        'toa-lab-proxy backend=nginx remote=192.0.2.66 remote_port=49152 proxy=203.0.113.250 proxy_port=4444 peer=192.0.2.66 status=200 uri=/?conn=1',
        'toa-lab-proxy backend=nginx remote=192.0.2.2 remote_port=49153 proxy=- proxy_port=- peer=192.0.2.2 status=200 uri=/?conn=2',
        'something else nginx wrote',
        '',
      ].join('\n'),
    );
    expect(log.refusals).toEqual([]);
    expect(log.requests.map(({ raw: _, ...r }) => r)).toEqual([
      { backend: 'nginx', remote: '198.51.100.21', remotePort: 41001, proxy: '198.51.100.21', peer: '192.0.2.2', status: 200, uri: '/?conn=0', authority: undefined, uniqueIdHex: undefined, tag: 0 },
      { backend: 'nginx', remote: '192.0.2.66', remotePort: 49152, proxy: '203.0.113.250', peer: '192.0.2.66', status: 200, uri: '/?conn=1', authority: undefined, uniqueIdHex: undefined, tag: 1 },
      { backend: 'nginx', remote: '192.0.2.2', remotePort: 49153, proxy: undefined, peer: '192.0.2.2', status: 200, uri: '/?conn=2', authority: undefined, uniqueIdHex: undefined, tag: 2 },
    ]);
  });

  it("reads HAProxy's request lines with the TLVs, and its connection-error lines with the quoted reason", () => {
    const log = parseProxyBackendLog(
      [
        'toa-lab-proxy backend=haproxy remote=2001:db8:1::23 remote_port=41003 status=200 uri=/?conn=2 authority=toa-lab.example unique_id=746F612D6C61622D3431303033',
        'toa-lab-proxy-error backend=haproxy remote=192.0.2.2 remote_port=50000 error="Received an invalid PROXY protocol header"',
      ].join('\n'),
    );
    expect(log.requests).toHaveLength(1);
    expect(log.requests[0]).toMatchObject({ remote: '2001:db8:1::23', remotePort: 41003, authority: 'toa-lab.example', uniqueIdHex: Buffer.from('toa-lab-41003').toString('hex'), tag: 2 });
    expect(log.refusals).toEqual([
      { backend: 'haproxy', reason: 'Received an invalid PROXY protocol header', raw: expect.stringContaining('toa-lab-proxy-error') },
    ]);
  });

  it('refuses a request line without a field it needs, or from an unknown backend, naming the line', () => {
    expect(() => parseProxyBackendLog('toa-lab-proxy backend=nginx remote=1.2.3.4 status=200')).toThrow(/no uri=.*remote=1\.2\.3\.4/);
    expect(() => parseProxyBackendLog('toa-lab-proxy backend=apache remote=1.2.3.4 status=200 uri=/')).toThrow(/no known backend/);
  });

  it("takes nginx's error-log lines about the PROXY protocol as refusals, with nginx's reason", () => {
    const refusals = parseNginxProxyErrors(
      [
        '2026/12/03 18:00:00 [error] 812#812: *45 broken header: "PROXY TCP5 198.51.100.21 192.0.2.100 41001 8081" while reading PROXY protocol, client: 192.0.2.2, server: 0.0.0.0:8081',
        '2026/12/03 18:00:01 [info] 812#812: *46 client closed connection while reading PROXY protocol, client: 192.0.2.2, server: 0.0.0.0:8081',
        '2026/12/03 18:00:02 [notice] 811#811: signal process started',
      ].join('\n'),
    );
    expect(refusals.map((r) => r.reason)).toEqual([
      'broken header: "PROXY TCP5 198.51.100.21 192.0.2.100 41001 8081" while reading PROXY protocol',
      'client closed connection while reading PROXY protocol',
    ]);
  });

  it("reads a frontend's counter from HAProxy's show stat CSV", () => {
    const csv = ['# pxname,svname,qcur,qmax,scur,dcon,status', 'toa_lab_proxy,FRONTEND,,,0,3,OPEN', 'other,FRONTEND,,,0,9,OPEN', ''].join('\n');
    expect(haproxyFrontendCounter(csv, 'toa_lab_proxy', 'dcon')).toBe(3);
    expect(haproxyFrontendCounter(csv, 'toa_lab_proxy', 'nope')).toBeUndefined();
    expect(haproxyFrontendCounter(csv, 'missing', 'dcon')).toBeUndefined();
  });
});
