import { check, type Check } from '../runner/scenario.ts';
import type { AccessLogRecord } from './python-http-server-log.ts';

/**
 * The full-OS verdict: the backend's own access log names exactly the
 * expected client addresses, one line per request (multiset: no missing, no
 * extra). Access logs carry addresses, not ports, so addresses are compared.
 */
export function clientIpsMatch(name: string, expected: readonly string[], log: readonly AccessLogRecord[]): Check {
  const want = [...expected].sort();
  const seen = log.map((r) => r.clientIp).sort();
  const missing = difference(want, seen);
  const unexpected = difference(seen, want);
  const passed = missing.length === 0 && unexpected.length === 0;
  return check(
    name,
    passed,
    `${want.length} line(s): ${summarise(want)}`,
    passed
      ? `${seen.length} line(s), all as expected`
      : `${seen.length} line(s); missing ${summarise(missing)}; unexpected ${summarise(unexpected)}`,
    log.map((r) => r.raw).join('\n'),
  );
}

/** Multiset difference a − b. */
function difference(a: readonly string[], b: readonly string[]): string[] {
  const left = [...b];
  return a.filter((x) => {
    const at = left.indexOf(x);
    if (at < 0) return true;
    left.splice(at, 1);
    return false;
  });
}

function summarise(list: readonly string[]): string {
  if (list.length === 0) return 'none';
  return list.length <= 6 ? list.join(', ') : `${list.slice(0, 6).join(', ')} … (+${list.length - 6})`;
}
