import type { Check } from '../core/scenario.ts';
import { multisetMatch } from './multiset-match.ts';
import type { AccessLogRecord } from './python-http-server-log.ts';

/**
 * The full-OS verdict: the backend's own access log names exactly the
 * expected client addresses, one line per request. Access logs (python's
 * http.server, nginx combined) carry addresses, not ports.
 */
export function clientIpsMatch(name: string, expected: readonly string[], log: readonly AccessLogRecord[]): Check {
  return multisetMatch(name, expected, log.map((r) => r.clientIp), log.map((r) => r.raw).join('\n'));
}
