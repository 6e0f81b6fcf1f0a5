import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The folders of harness/ and what each may import (Playwright's DEPS.list):
 * the architecture, checked. Lower layers never import upper ones, and no two
 * folders import each other, directly or around a cycle. A new import across
 * folders that is not listed here fails this test: either it belongs (add it,
 * and say why in the review) or the code is in the wrong folder.
 */
const DEPS: Record<string, readonly string[]> = {
  // Foundations: no harness imports, or only each other.
  exec: [],
  cache: [],
  core: ['exec'], // Scenario, Check, StepResult, UsageError: the shared types, below the runner
  net: [],
  client: [],
  checks: ['core'],
  remote: ['exec'],
  os: ['core', 'kernels', 'net', 'remote'],
  lifecycle: [],
  // Kernels as data (suite × flavour × version, the archive's lists) and the chroot that builds for one.
  kernels: ['cache', 'exec'],
  images: ['cache', 'exec', 'kernels'],
  toa: ['cache', 'checks', 'core', 'exec', 'images', 'kernels', 'os', 'remote'], // cache: the eBPF TOA build (toa-bpf-overlay.ts), kept out of harness/images so micro-VM image recipes do not change with it
  vm: ['cache', 'exec', 'images', 'lifecycle', 'remote'],
  provision: ['lifecycle', 'remote', 'vm'],
  guest: ['checks', 'remote'],
  // One contract for every machine, and the providers behind it.
  machine: ['exec', 'images', 'lifecycle', 'net', 'provision', 'remote', 'vm'],
  // Labs on machines: the procedure, the data-path lab, traffic.
  lab: ['checks', 'client', 'core', 'exec', 'guest', 'images', 'kernels', 'lifecycle', 'machine', 'net', 'os', 'remote', 'toa', 'vm'],
  'patched-kernel': ['cache', 'checks', 'core', 'exec', 'guest', 'images', 'lab', 'lifecycle', 'machine', 'net', 'os', 'remote', 'toa', 'vm', 'scenarios'],
  // The kernel-upgrade case (issue 10 §4): an image variant built from the lab image's parts, the guide's
  // procedure and traffic (lab), a reboot through GRUB's default entry (patched-kernel: the harness as firmware).
  'kernel-upgrade': ['cache', 'core', 'exec', 'images', 'kernels', 'lab', 'lifecycle', 'machine', 'os', 'patched-kernel', 'remote', 'toa'],
  // Cells: one runner per kind of image (cell-runners.ts), the patched-kernel cell included.
  // net: the balancer profile a run chose (harness/net/balancer/balancer-profiles.ts), passed to the lab.
  // provision: a guide row's mirror host joins the package proxy's default allow-list (cell-plan.ts).
  // vm: a micro-VM cell's note says how its guest started (describeStart: booted or restored from a snapshot).
  runner: ['cache', 'core', 'images', 'kernels', 'lab', 'lifecycle', 'machine', 'net', 'os', 'patched-kernel', 'provision', 'scenarios', 'toa', 'vm'],
  report: ['core', 'exec'],
  // net: `--balancer NAME` looks its profile up in the registry.
  // kernel-upgrade: `toa-lab kernel-upgrade` runs that case.
  cli: ['cache', 'core', 'exec', 'images', 'kernel-upgrade', 'kernels', 'lifecycle', 'machine', 'net', 'os', 'report', 'runner', 'toa', 'scenarios', 'patched-kernel'],
};

const HARNESS = join(import.meta.dirname, '..', '..', 'harness');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : name.endsWith('.ts') ? [path] : [];
  });
}

/** folder → the folders its files import (relative imports only; `scenarios` is the repo's scenarios/). */
function folderImports(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of sourceFiles(HARNESS)) {
    const folder = relative(HARNESS, file).split('/')[0]!;
    if (!folder.endsWith('.ts')) graph.set(folder, graph.get(folder) ?? new Set());
    for (const match of readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
      const target = relative(HARNESS, normalize(join(dirname(file), match[1]!)));
      const targetFolder = target.startsWith('../scenarios') ? 'scenarios' : target.split('/')[0]!;
      if (target.startsWith('..') && targetFolder !== 'scenarios') continue;
      if (targetFolder.endsWith('.ts') || targetFolder === folder || folder.endsWith('.ts')) continue;
      graph.get(folder)!.add(targetFolder);
    }
  }
  return graph;
}

describe('harness layering', () => {
  const graph = folderImports();

  it('every folder is listed, and imports only what its entry allows', () => {
    const unlisted = [...graph.keys()].filter((folder) => !(folder in DEPS));
    expect(unlisted, 'folders without a DEPS entry').toEqual([]);
    const violations = [...graph].flatMap(([folder, targets]) => [...targets].filter((t) => !DEPS[folder]!.includes(t)).map((t) => `${folder} → ${t}`));
    expect(violations).toEqual([]);
  });

  it('has no import cycle between folders', () => {
    const cycles = new Set<string>();
    const visit = (folder: string, path: string[]): void => {
      if (path.includes(folder)) {
        cycles.add([...path.slice(path.indexOf(folder)), folder].join(' → '));
        return;
      }
      for (const next of graph.get(folder) ?? []) visit(next, [...path, folder]);
    };
    for (const folder of graph.keys()) visit(folder, []);
    expect([...cycles]).toEqual([]);
  });
});
