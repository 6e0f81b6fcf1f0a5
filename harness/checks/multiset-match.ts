import { check, type Check } from '../core/scenario.ts';

/**
 * The shape of every "the log names exactly these" verdict: the values the
 * guest logged against the values expected, as multisets — nothing missing,
 * nothing extra, no duplicates passing for two.
 */
export function multisetMatch(name: string, expected: readonly string[], seen: readonly string[], evidence: string): Check {
  const want = [...expected].sort();
  const got = [...seen].sort();
  const missing = difference(want, got);
  const unexpected = difference(got, want);
  const passed = missing.length === 0 && unexpected.length === 0;
  return check(
    name,
    passed,
    `${want.length} line(s): ${summarise(want)}`,
    passed
      ? `${got.length} line(s), all as expected`
      : `${got.length} line(s); missing ${summarise(missing)}; unexpected ${summarise(unexpected)}`,
    evidence,
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
