import { describe, expect, it } from 'vitest';
import { clientIpsMatch } from '../../../harness/checks/client-ip-match.ts';
import { parseNginxCombinedLog } from '../../../harness/checks/nginx-access-log.ts';
import { parsePythonHttpServerLog } from '../../../harness/checks/python-http-server-log.ts';

describe('python http.server access log', () => {
  it('reads the guide\'s example line and skips the rest of stderr', () => {
    const text = [
      'Serving HTTP on 0.0.0.0 port 80 (http://0.0.0.0:80/) ...',
      '192.168.0.90 - - [06/Aug/2020 14:24:21] "GET / HTTP/1.1" 200 -',
      '198.51.100.7 - - [22/Nov/2026 10:00:01] "GET /x?y=1 HTTP/1.0" 404 -',
      'Traceback (most recent call last):',
      '203.0.113.9 - - [22/Nov/2026 10:00:02] code 400, message Bad request syntax (\'\\x16\\x03\')',
      '203.0.113.9 - - [22/Nov/2026 10:00:02] "\\x16\\x03" 400 -',
    ].join('\n');
    const records = parsePythonHttpServerLog(text);
    expect(records.map((r) => [r.clientIp, r.method, r.path, r.status])).toEqual([
      ['192.168.0.90', 'GET', '/', 200],
      ['198.51.100.7', 'GET', '/x?y=1', 404],
    ]);
  });

  it('reads IPv6 and IPv4-mapped clients as they are written', () => {
    const [record] = parsePythonHttpServerLog('::ffff:198.51.100.7 - - [22/Nov/2026 10:00:01] "GET / HTTP/1.1" 200 -\n');
    expect(record?.clientIp).toBe('::ffff:198.51.100.7');
  });
});

describe('nginx combined access log', () => {
  it('reads $remote_addr, the request and the status', () => {
    const text = [
      '198.51.100.7 - - [22/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 16 "-" "undici"',
      '2001:db8:1::1 - alice [22/Nov/2026:10:00:01 +0000] "POST /form HTTP/1.0" 201 0 "http://x/" "curl/8 \\x22quoted\\x22"',
      '192.0.2.2 - - [22/Nov/2026:10:00:02 +0000] "-" 400 0 "-" "-"',
      'not a log line',
    ].join('\n');
    expect(parseNginxCombinedLog(text).map((r) => [r.clientIp, r.method, r.path, r.status])).toEqual([
      ['198.51.100.7', 'GET', '/', 200],
      ['2001:db8:1::1', 'POST', '/form', 201],
      ['192.0.2.2', '-', '-', 400],
    ]);
  });
});

describe('clientIpsMatch', () => {
  const log = parsePythonHttpServerLog(
    ['198.51.100.1', '198.51.100.2', '198.51.100.2'].map((ip) => `${ip} - - [22/Nov/2026 10:00:01] "GET / HTTP/1.1" 200 -`).join('\n'),
  );

  it('passes on exactly the expected addresses, one line each, in any order', () => {
    expect(clientIpsMatch('t', ['198.51.100.2', '198.51.100.1', '198.51.100.2'], log).passed).toBe(true);
  });

  it('names what is missing and what is unexpected (a multiset, not a set)', () => {
    const result = clientIpsMatch('t', ['198.51.100.1', '198.51.100.2', '198.51.100.3'], log);
    expect(result.passed).toBe(false);
    expect(result.observed).toBe('3 line(s); missing 198.51.100.3; unexpected 198.51.100.2');
  });
});
