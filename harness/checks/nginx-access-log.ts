import type { AccessLogRecord } from './python-http-server-log.ts';

/**
 * nginx's access log in its default `combined` format:
 *   $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"
 * e.g.
 *   198.51.100.7 - - [22/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 612 "-" "undici"
 * $remote_addr is the peer of the accepted connection: what TOA rewrites.
 * nginx escapes quotes inside fields as \x22, so fields never contain a bare quote.
 */
const COMBINED = /^(\S+) - (\S+) \[[^\]]*\] "([^"]*)" (\d{3}) (\d+|-) "[^"]*" "[^"]*"\s*$/;

export function parseNginxCombinedLog(text: string): AccessLogRecord[] {
  const records: AccessLogRecord[] = [];
  for (const line of text.split('\n')) {
    const match = COMBINED.exec(line);
    if (!match) continue;
    // A request nginx could not parse is logged as-is (or "-"): keep the line, with what it says.
    const [method = '-', path = '-'] = match[3]!.split(' ');
    records.push({ clientIp: match[1]!, method, path, status: Number(match[4]), raw: line });
  }
  return records;
}
