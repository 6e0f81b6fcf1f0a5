import type { BackendLogRecord, Endpoint } from './backend-log.ts';
import { formatEndpoint } from './backend-log.ts';
import type { Check } from '../core/scenario.ts';
import { multisetMatch } from './multiset-match.ts';

/**
 * toa-backend's log names exactly the expected peers (ip:port), one line
 * each — checked for both views the module rewrites: getpeername() and the
 * address accept() returned.
 */
export function peersMatch(name: string, expected: readonly Endpoint[], log: readonly BackendLogRecord[]): Check[] {
  const evidence = log.map((r) => r.raw).join('\n');
  return (['peer', 'accept'] as const).map((field) =>
    multisetMatch(
      `${name}: ${field === 'peer' ? 'getpeername()' : 'accept()'} names the expected peers`,
      expected.map(formatEndpoint),
      log.map((r) => formatEndpoint(r[field])),
      evidence,
    ),
  );
}
