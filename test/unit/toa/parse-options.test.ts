import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../../harness/repo-root.ts';

/**
 * toa.ko's option parser (native/toa/toa.c), compiled for the host with the few kernel types it
 * uses (native/toa/tests/parse-options-host.c): which TOA a segment names, decided without a VM.
 * The micro-VM scenarios (malformed-options, forged-and-balancer-toa) decide it on real kernels.
 */
const source = readFileSync(join(repoRoot(), 'native/toa/toa.c'), 'utf8');

/** One top-level function of toa.c, from its signature line to the closing brace in column 0. */
function cut(startsWith: string): string {
  const start = source.indexOf(`\n${startsWith}`);
  const end = source.indexOf('\n}\n', start);
  if (start < 0 || end < 0) throw new Error(`toa.c has no ${startsWith}`);
  return source.slice(start + 1, end + 3);
}

function section(from: string, to: string): string {
  const start = source.indexOf(from);
  const end = source.indexOf(to, start);
  if (start < 0 || end < 0) throw new Error(`toa.c has no section ${from}`);
  return source.slice(start, end);
}

function parse(...lists: string[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'toa-parse-'));
  try {
    writeFileSync(
      join(dir, 'toa-parse.inc'),
      [
        cut('static bool toa_endpoint_equal('),
        cut('static bool toa_kind_configured('),
        cut('static bool toa_kind_known('),
        section('#define TOA_OPT_EOL', '/* The table'),
      ].join('\n'),
    );
    copyFileSync(join(repoRoot(), 'native/toa/tests/parse-options-host.c'), join(dir, 'main.c'));
    execFileSync('gcc', ['-Wall', '-Werror', '-o', join(dir, 'parse'), join(dir, 'main.c')], { cwd: dir });
    return execFileSync(join(dir, 'parse'), lists, { encoding: 'utf8' }).trim().split('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const BALANCER = 'fe089c41c6336401'; // 254/8, 198.51.100.1:40001
const FORGED = 'fe08115ccb0071fa'; // 254/8, 203.0.113.250:4444
const CONFLICT = '0 4 -:0';

describe("toa.ko's option parser (host build)", () => {
  it('one TOA names the client; two naming different clients name none, whichever comes first; the same twice is honoured', () => {
    expect(parse(BALANCER, BALANCER + FORGED, FORGED + BALANCER, BALANCER + BALANCER)).toEqual([
      '1 0 198.51.100.1:40001',
      CONFLICT,
      CONFLICT,
      '1 0 198.51.100.1:40001',
    ]);
  });

  it('a TOA before a broken option is not used (the break could hide a second one)', () => {
    expect(parse(`${FORGED}63c80101`, `${FORGED}6300`, `${BALANCER}0000`)).toEqual(['0 1 -:0', '0 1 -:0', '1 0 198.51.100.1:40001']);
  });

  it('unconfigured kinds do not count, before or after', () => {
    const forged200 = 'c8' + FORGED.slice(2);
    expect(parse(BALANCER + forged200, forged200)).toEqual(['1 0 198.51.100.1:40001', '0 2 -:0']);
  });

  it('a configured kind with a bad length is malformed, and a TOA after it still names the client', () => {
    expect(parse(`fe07010203040501${BALANCER}`)).toEqual(['1 1 198.51.100.1:40001']);
  });
});
