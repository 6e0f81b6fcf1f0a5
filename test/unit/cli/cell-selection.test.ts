import { mkdirSync, mkdtempSync, writeFileSync, utimesSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listCache, pruneCache } from '../../../harness/cache/cache-inventory.ts';
import { resolveShard, selectionFrom } from '../../../harness/cli/cell-selection.ts';
import { failedPairs } from '../../../harness/report/rerun-failed.ts';
import { ResultsStore } from '../../../harness/report/results-store.ts';
import { planCells } from '../../../harness/runner/cell-plan.ts';
import { record } from '../report/fixtures.ts';

describe('cell plan (what run executes and list prints)', () => {
  it('the default run: every micro-VM and Debian 12; procedure rows only on the whole OS', () => {
    const { plan } = planCells({});
    expect(plan.cells.map((c) => c.id)).toEqual(['microvm-bookworm', 'microvm-bullseye', 'microvm-trixie', 'microvm-trixie-backports-7.2', 'microvm-trixie-backports-7.3', 'microvm-trixie-cloud', 'debian-12']);
    expect(plan.cells[0]!.scenarios).not.toContain('guide-procedure');
    expect(plan.cells.at(-1)!.scenarios).toContain('guide-procedure');
  });

  it('shards split the pairs without overlap and cover the whole', () => {
    const whole = planCells({}).plan.cells.flatMap((c) => c.scenarios.map((s) => `${c.id}/${s}`));
    const parts = [1, 2, 3].flatMap((index) => planCells({ shard: { index, count: 3 } }).plan.cells.flatMap((c) => c.scenarios.map((s) => `${c.id}/${s}`)));
    expect(parts.sort()).toEqual([...whole].sort());
  });

  it('refuses unknown images and scenarios', () => {
    expect(() => planCells({ images: ['centos-5'] })).toThrow(/unknown image centos-5/);
    expect(() => planCells({ scenarios: ['nope'] })).toThrow(/unknown scenario nope/);
  });
});

describe('shard from GitLab parallel jobs', () => {
  it('CI_NODE_INDEX/CI_NODE_TOTAL give the shard; an explicit --shard wins; nonsense is refused', () => {
    expect(resolveShard(undefined, { CI_NODE_INDEX: '2', CI_NODE_TOTAL: '3' })).toEqual({ index: 2, count: 3 });
    expect(resolveShard('1/4', { CI_NODE_INDEX: '2', CI_NODE_TOTAL: '3' })).toEqual({ index: 1, count: 4 });
    expect(resolveShard(undefined, {})).toBeUndefined();
    expect(() => resolveShard(undefined, { CI_NODE_INDEX: '4', CI_NODE_TOTAL: '3' })).toThrow(/CI_NODE_INDEX=4 CI_NODE_TOTAL=3/);
    expect(selectionFrom({}, { CI_NODE_INDEX: '1', CI_NODE_TOTAL: '2' }).shard).toEqual({ index: 1, count: 2 });
  });
});

describe('--rerun-failed', () => {
  it('takes the failed, errored and planned-but-unreported pairs of an earlier run, not the passed or skipped', () => {
    const dir = mkdtempSync(join(tmpdir(), 'toa-lab-rerun-'));
    const store = new ResultsStore(dir);
    store.appendPlan({ planVersion: 1, cells: [{ id: 'microvm-trixie', image: 'microvm-trixie', kind: 'micro', scenarios: ['load', 'udp', 'dsr-vip', 'fullnat-toa-v4', 'spoofed-toa'] }] });
    store.append('microvm-trixie', record('microvm-trixie', 'load').outcome);
    store.append('microvm-trixie', record('microvm-trixie', 'udp', { passed: false }).outcome);
    store.append('microvm-trixie', { ...record('microvm-trixie', 'dsr-vip').outcome, checks: [], error: 'not run: the guest is gone' });
    store.append('microvm-trixie', { ...record('microvm-trixie', 'spoofed-toa').outcome, checks: [], skipped: 'needs our parameters' });
    expect([...failedPairs(dir)].sort()).toEqual(['microvm-trixie × dsr-vip', 'microvm-trixie × fullnat-toa-v4', 'microvm-trixie × udp']);
    const { plan } = planCells(selectionFrom({ 'rerun-failed': dir }, {}));
    expect(plan.cells).toEqual([{ id: 'microvm-trixie', image: 'microvm-trixie', kind: 'micro', scenarios: ['fullnat-toa-v4', 'dsr-vip', 'udp'] }]);
    expect(() => failedPairs(join(dir, 'nope'))).toThrow(/--rerun-failed: no results at/);
  });
});

describe('cache list / prune', () => {
  function entry(root: string, kind: string, hash: string, daysAgo: number, complete = true): string {
    const dir = join(root, kind, hash);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'blob'), 'x'.repeat(1000));
    const when = new Date(Date.now() - daysAgo * 86_400_000);
    if (complete) {
      writeFileSync(join(dir, '.complete'), when.toISOString());
      utimesSync(join(dir, '.complete'), when, when);
    }
    return dir;
  }

  it('lists entries by kind with size and date; prune keeps the newest per kind, shared downloads and live builds', () => {
    const root = mkdtempSync(join(tmpdir(), 'toa-lab-cache-'));
    const newest = entry(root, 'microvm-bookworm', 'aaaa', 1);
    const older = entry(root, 'microvm-bookworm', 'bbbb', 10);
    const oldest = entry(root, 'microvm-bookworm', 'cccc', 40);
    const image = entry(root, 'images/debian-12', 'dddd', 50);
    mkdirSync(join(root, 'chroots', 'bookworm-0123456789ab'), { recursive: true });
    const shared = entry(root, 'debs', 'bookworm', 90);
    const deadBuild = join(root, 'microvm-bookworm', '.building-eeee-999999999');
    const liveBuild = join(root, 'microvm-bookworm', `.building-ffff-${process.pid}`);
    mkdirSync(deadBuild);
    mkdirSync(liveBuild);

    const listed = listCache(root);
    expect(listed.filter((e) => e.state === 'complete').map((e) => `${e.kind}/${e.hash}`)).toEqual([
      'chroots/bookworm/0123456789ab',
      'images/debian-12/dddd',
      'microvm-bookworm/aaaa',
      'microvm-bookworm/bbbb',
      'microvm-bookworm/cccc',
    ]);
    expect(listed.find((e) => e.hash === 'aaaa')!.bytes).toBeGreaterThanOrEqual(1000);

    expect(pruneCache({ root, olderThanDays: 30, dryRun: true }).map((e) => e.hash).sort()).toEqual(['.building-eeee-999999999', 'cccc']);
    expect(existsSync(oldest)).toBe(true); // a dry run removes nothing
    const removed = pruneCache({ root });
    expect(removed.map((e) => e.hash).sort()).toEqual(['.building-eeee-999999999', 'bbbb', 'cccc']);
    for (const kept of [newest, image, shared, liveBuild]) expect(existsSync(kept)).toBe(true);
    for (const gone of [older, oldest, deadBuild]) expect(existsSync(gone)).toBe(false);
  });
});
