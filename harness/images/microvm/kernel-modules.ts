import { existsSync } from 'node:fs';
import { mkdir, readFile, symlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { runHostCommand } from '../../exec/run-host-command.ts';

/**
 * Picks the few modules a micro-VM needs (virtio NIC and friends) out of a
 * Debian kernel package, with their dependencies, in load order. A .deb ships
 * no modules.dep (postinst makes it), so depmod is run on the extracted tree.
 */
export async function moduleLoadOrder(
  extractedRoot: string,
  kernelRelease: string,
  wanted: readonly string[],
  optional: readonly string[] = [],
): Promise<string[]> {
  await ensureLibModules(extractedRoot);
  await runHostCommand('depmod', ['-b', extractedRoot, kernelRelease]);
  const modulesDir = modulesDirOf(extractedRoot, kernelRelease);
  const depFile = await readFile(join(modulesDir, 'modules.dep'), 'utf8');
  const builtin = await readFile(join(modulesDir, 'modules.builtin'), 'utf8').catch(() => '');
  return loadOrderFromModulesDep(depFile, wanted, builtin, optional);
}

/**
 * Where an extracted kernel package keeps its modules: /lib/modules, or
 * /usr/lib/modules on merged-/usr suites (trixie). depmod -b only looks under
 * /lib, so the latter gets a lib → usr/lib link first (see ensureLibModules).
 */
export function modulesDirOf(extractedRoot: string, kernelRelease: string): string {
  return join(extractedRoot, 'lib', 'modules', kernelRelease);
}

/** Makes <root>/lib/modules exist for depmod when the package put modules under usr/lib. */
export async function ensureLibModules(extractedRoot: string): Promise<void> {
  if (!existsSync(join(extractedRoot, 'lib', 'modules')) && existsSync(join(extractedRoot, 'usr', 'lib', 'modules'))) {
    await mkdir(join(extractedRoot, 'lib'), { recursive: true });
    await symlink(join('..', 'usr', 'lib', 'modules'), join(extractedRoot, 'lib', 'modules'));
  }
}

/**
 * Pure part, unit-tested: module paths (relative to the modules dir), dependencies first.
 * `optional` modules are taken when the kernel has them and left out when it does not.
 */
export function loadOrderFromModulesDep(
  modulesDep: string,
  wanted: readonly string[],
  modulesBuiltin = '',
  optional: readonly string[] = [],
): string[] {
  // A driver built into the kernel (trixie builds virtio_pci in) needs no loading.
  const builtIn = new Set(modulesBuiltin.split('\n').filter(Boolean).map(moduleName));
  const deps = new Map<string, string[]>();
  const byName = new Map<string, string>();
  for (const line of modulesDep.split('\n')) {
    const [path, rest] = line.split(':');
    if (!path || rest === undefined) continue;
    deps.set(path, rest.trim() ? rest.trim().split(/\s+/) : []);
    byName.set(moduleName(path), path);
  }
  const order: string[] = [];
  const visit = (path: string, trail: string[]): void => {
    if (order.includes(path)) return;
    if (trail.includes(path)) throw new Error(`module dependency cycle: ${[...trail, path].join(' -> ')}`);
    for (const dep of deps.get(path) ?? []) visit(dep, [...trail, path]);
    order.push(path);
  };
  for (const name of [...wanted, ...optional]) {
    if (builtIn.has(name.replaceAll('-', '_'))) continue;
    const path = byName.get(name.replaceAll('-', '_'));
    if (!path && optional.includes(name)) continue;
    if (!path) throw new Error(`kernel module ${name} is neither in this kernel's modules.dep nor built in`);
    visit(path, []);
  }
  return order;
}

function moduleName(path: string): string {
  return basename(path).replace(/\.ko(\.(xz|zst|gz))?$/, '').replaceAll('-', '_');
}
