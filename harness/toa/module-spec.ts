import { basename } from 'node:path';
import type { ToaModuleChoice } from './module-choice.ts';

/**
 * One module under test, for the whole lab: a name, where it comes from (ours, a vendor's
 * source, a prebuilt .ko) and the option kinds it accepts. The kinds are the module's, never the
 * balancer's: what the balancer sends is `--balancer PROFILE` / `--toa-kind N`, and no flag means
 * both. Scenarios judge a module against its declared kinds (a module that accepts 200, 253 and
 * 254 by design is not wrong to honour 200).
 *
 * On the command line (harness/cli/run-command.ts), each flag repeatable:
 *   --toa-source [NAME=]DIR|TARBALL|GIT-URL|ours     --toa-ko [NAME=]FILE
 *   --module-kinds [NAME=]KIND[,KIND...]
 * NAME defaults to "toa-lab" for ours (`ours`, or no module flag at all) and to the file or
 * folder's base name otherwise; a NAME given to --module-kinds must be one of the modules'.
 * Two or more modules make the run a module × kernel × scenario matrix (cell ids
 * `<image>+<module>`: harness/runner/cell-plan.ts). Without --module-kinds the module is taken to
 * accept exactly the kind the balancer sends (the lab's behaviour before module specs).
 * toa-lab's own module is loaded with its declared kinds (toa_kinds=…); a vendor's is loaded
 * bare, as its guide says, and its declared kinds are the user's word for what it reads.
 */
export interface ModuleSpec {
  name: string;
  choice: ToaModuleChoice;
  kinds: readonly number[];
  /** False when the kinds were inferred from what the balancer sends. */
  kindsDeclared: boolean;
}

export const OWN_MODULE_NAME = 'toa-lab';

/** A malformed module spec: the CLI turns it into a usage error (exit 2) before anything boots. */
export class ModuleSpecError extends Error {
  override readonly name = 'ModuleSpecError';
}

const NAME = /^[a-z][a-z0-9_-]*$/;

/**
 * `NAME=VALUE` or a bare VALUE. A prefix counts as a name only if it looks like one (so a path
 * or URL with '=' in it is a value); `exists` lets a path that really is there win over that
 * reading, should a folder be called `x=y`.
 */
export function splitNamed(text: string, exists: (path: string) => boolean = () => false): { name?: string; value: string } {
  const at = text.indexOf('=');
  if (at <= 0 || exists(text)) return { value: text };
  const name = text.slice(0, at);
  return NAME.test(name) ? { name, value: text.slice(at + 1) } : { value: text };
}

/** `200,253,254` → [200, 253, 254]: TCP option kinds 2–255 (0 and 1 are EOL and NOP), no repeats. */
export function parseKinds(text: string, flag = '--module-kinds'): number[] {
  const parts = text.split(',').map((p) => p.trim());
  if (parts.some((p) => p === '')) throw new ModuleSpecError(`${flag} wants KIND[,KIND...], got '${text}'`);
  const kinds = parts.map((p) => {
    const kind = /^\d+$/.test(p) ? Number(p) : NaN;
    if (!(kind >= 2 && kind <= 255)) throw new ModuleSpecError(`${flag}: '${p}' is not a TCP option kind a module can accept (2–255)`);
    return kind;
  });
  const repeated = kinds.find((k, i) => kinds.indexOf(k) !== i);
  if (repeated !== undefined) throw new ModuleSpecError(`${flag}: kind ${repeated} is given twice`);
  return kinds;
}

export interface ModuleSpecFlags {
  /** --toa-source, each `[NAME=]DIR|TARBALL|GIT-URL`, or `[NAME=]ours` for toa-lab's own module. */
  toaSource?: readonly string[] | undefined;
  /** --toa-ko, each `[NAME=]FILE`. */
  toaKo?: readonly string[] | undefined;
  /** --module-kinds, each `[NAME=]KIND[,KIND...]`; a bare one only when there is one module. */
  moduleKinds?: readonly string[] | undefined;
}

/** The word that names toa-lab's own module among vendors' (`--toa-source ours`, as `--toa-bpf ours`). */
export const OWN_MODULE_KEYWORD = 'ours';

/** A module under test before its kinds are known: what a run's plan needs (its name and where it comes from). */
export interface NamedModule {
  name: string;
  choice: ToaModuleChoice;
}

/**
 * The modules under test, in flag order (every --toa-source, then every --toa-ko): none given
 * means toa-lab's own alone. Each is named (NAME=, or its default name); two with one name are
 * an error that says how to name them apart, since the name is part of every cell id in a
 * module × kernel run (harness/runner/cell-plan.ts).
 */
export function namedModulesFrom(
  flags: Pick<ModuleSpecFlags, 'toaSource' | 'toaKo'>,
  io: { exists?: (path: string) => boolean; resolvePath?: (path: string) => string } = {},
): NamedModule[] {
  const exists = io.exists ?? (() => false);
  const modules: NamedModule[] = [];
  for (const text of flags.toaSource ?? []) {
    const { name: given, value } = splitNamed(text, exists);
    if (!value) throw new ModuleSpecError(`--toa-source ${text}: no location after the name`);
    modules.push(
      value === OWN_MODULE_KEYWORD
        ? { name: given ?? OWN_MODULE_NAME, choice: { origin: 'toa-lab' } }
        : { name: given ?? defaultName(value), choice: { origin: 'source', location: value } },
    );
  }
  for (const text of flags.toaKo ?? []) {
    const { name: given, value } = splitNamed(text, exists);
    if (!value) throw new ModuleSpecError(`--toa-ko ${text}: no file after the name`);
    modules.push({ name: given ?? defaultName(value), choice: { origin: 'prebuilt', path: io.resolvePath ? io.resolvePath(value) : value } });
  }
  if (modules.length === 0) return [{ name: OWN_MODULE_NAME, choice: { origin: 'toa-lab' } }];
  const names = modules.map((m) => m.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) {
    throw new ModuleSpecError(`two modules are named '${twice}': name each with NAME=, e.g. --toa-source huawei=DIR --toa-source ucloud=DIR2`);
  }
  return modules;
}

/**
 * The module specs from the run's flags, one per module under test. `balancerKind` is what the
 * balancer sends, the kinds a module is taken to accept when --module-kinds says nothing for it.
 * `exists` tells a local path from a `NAME=` prefix (see splitNamed); `resolvePath` makes a
 * prebuilt .ko's path absolute.
 */
export function moduleSpecsFrom(
  flags: ModuleSpecFlags,
  balancerKind: number,
  io: { exists?: (path: string) => boolean; resolvePath?: (path: string) => string } = {},
): ModuleSpec[] {
  const modules = namedModulesFrom(flags, io);
  const declared = new Map<string, number[]>();
  for (const text of flags.moduleKinds ?? []) {
    const { name: forModule, value } = splitNamed(text);
    if (forModule === undefined && modules.length > 1) {
      throw new ModuleSpecError(`--module-kinds ${text}: ${modules.length} modules are under test (${modules.map((m) => m.name).join(', ')}); say whose kinds, e.g. --module-kinds ${modules[0]!.name}=${value}`);
    }
    const name = forModule ?? modules[0]!.name;
    const module = modules.find((m) => m.name === name);
    if (!module) {
      throw new ModuleSpecError(
        modules.length === 1
          ? `--module-kinds names module '${name}', but the module under test is '${modules[0]!.name}'`
          : `--module-kinds names module '${name}', which is not among the modules under test (${modules.map((m) => m.name).join(', ')})`,
      );
    }
    if (declared.has(name)) throw new ModuleSpecError(`--module-kinds: module '${name}' is given kinds twice`);
    const kinds = parseKinds(value);
    if (module.choice.origin === 'toa-lab' && kinds.length > OWN_MODULE_MAX_KINDS) {
      throw new ModuleSpecError(`--module-kinds: toa-lab's module takes at most ${OWN_MODULE_MAX_KINDS} kinds (toa_kinds), got ${kinds.length}`);
    }
    declared.set(name, kinds);
  }
  return modules.map((m) => {
    const kinds = declared.get(m.name);
    return kinds ? { ...m, kinds, kindsDeclared: true } : { ...m, kinds: [balancerKind], kindsDeclared: false };
  });
}

/** native/toa's TOA_MAX_KINDS: the length of its toa_kinds parameter array. */
const OWN_MODULE_MAX_KINDS = 8;

/** A vendor module's default name: its tarball, folder or repository, without the extension. */
function defaultName(location: string): string {
  const base = basename(location.replace(/\/+$/, '')).replace(/\.(tar(\.(gz|xz|bz2|zst))?|tgz|git|ko)$/, '');
  const cleaned = base.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^[^a-z]+/, '');
  return cleaned || 'vendor';
}

export function describeModuleSpec(spec: ModuleSpec): string {
  return `module '${spec.name}' accepting kind${spec.kinds.length > 1 ? 's' : ''} ${spec.kinds.join(', ')}${spec.kindsDeclared ? '' : " (the balancer's, none declared)"}`;
}
