/**
 * Which parts `npm run bench` runs: all of them, unless the environment says
 * otherwise (comma-separated part names):
 * - BENCH_ONLY=virtme-ng,microvm runs only those;
 * - BENCH_SKIP=virtme-ng,parallel runs the rest.
 * A name that is no part fails at once, so a typo never silently skips anything.
 */
export const BENCH_PARTS = ['microvm', 'net-ceiling', 'modcost', 'cells', 'full-os', 'parallel', 'virtme-ng'] as const;

export type BenchPart = (typeof BENCH_PARTS)[number];

export function selectedParts(env: NodeJS.ProcessEnv = process.env): Set<BenchPart> {
  const names = (variable: string): BenchPart[] | undefined => {
    const raw = env[variable]?.trim();
    if (!raw) return undefined;
    const list = raw.split(',').map((n) => n.trim()).filter(Boolean);
    const unknown = list.filter((n) => !(BENCH_PARTS as readonly string[]).includes(n));
    if (unknown.length) throw new Error(`${variable}: no bench part named ${unknown.join(', ')} (parts: ${BENCH_PARTS.join(', ')})`);
    return list as BenchPart[];
  };
  const only = names('BENCH_ONLY');
  const skip = new Set(names('BENCH_SKIP') ?? []);
  return new Set(BENCH_PARTS.filter((part) => (only ?? BENCH_PARTS).includes(part) && !skip.has(part)));
}
