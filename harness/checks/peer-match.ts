import type { BackendLogRecord, Endpoint } from './backend-log.ts';
import { formatEndpoint } from './backend-log.ts';
import { check, type Check } from '../runner/scenario.ts';

/**
 * The core verdict of the lab: the backend's log names exactly the expected
 * peers, one line each (a multiset comparison: no missing, no extra, no
 * duplicate). Both views are checked: getpeername() and accept()'s address.
 */
export function peersMatch(name: string, expected: readonly Endpoint[], log: readonly BackendLogRecord[]): Check[] {
  const want = expected.map(formatEndpoint).sort();
  return (['peer', 'accept'] as const).map((field) => {
    const seen = log.map((r) => formatEndpoint(r[field])).sort();
    const missing = difference(want, seen);
    const unexpected = difference(seen, want);
    const passed = missing.length === 0 && unexpected.length === 0;
    const via = field === 'peer' ? 'getpeername()' : 'accept()';
    return check(
      `${name}: ${via} names the expected peers`,
      passed,
      `${want.length} line(s): ${summarise(want)}`,
      passed
        ? `${seen.length} line(s), all as expected`
        : `${seen.length} line(s); missing ${summarise(missing)}; unexpected ${summarise(unexpected)}`,
      log.map((r) => r.raw).join('\n'),
    );
  });
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
