import { basename } from 'node:path';
import type { ToaModuleChoice } from './module-choice.ts';

/**
 * One module under test, for the whole lab: a name, where it comes from (ours, a vendor's
 * source, a prebuilt .ko) and the option kinds it accepts. The kinds are the module's, never the
 * balancer's: what the balancer sends is `--balancer PROFILE` / `--toa-kind N`, and no flag means
 * both. Scenarios judge a module against its declared kinds (a module that accepts 200, 253 and
 * 254 by design is not wrong to honour 200).
 *
 * On the command line (harness/cli/run-command.ts):
 *   --toa-source [NAME=]DIR|TARBALL|GIT-URL     --toa-ko [NAME=]FILE
 *   --module-kinds [NAME=]KIND[,KIND...]
 * NAME defaults to "toa-lab" for ours and to the file or folder's base name otherwise; a NAME
 * given to --module-kinds must be the module's. Without --module-kinds the module is taken to
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
  toaSource?: string | undefined;
  toaKo?: string | undefined;
  moduleKinds?: string | undefined;
}

/**
 * The module spec from the run's flags. `balancerKind` is what the balancer sends, the kinds a
 * module is taken to accept when --module-kinds says nothing. `exists` tells a local path from a
 * `NAME=` prefix (see splitNamed); `resolvePath` makes a prebuilt .ko's path absolute.
 */
export function moduleSpecFrom(
  flags: ModuleSpecFlags,
  balancerKind: number,
  io: { exists?: (path: string) => boolean; resolvePath?: (path: string) => string } = {},
): ModuleSpec {
  if (flags.toaSource !== undefined && flags.toaKo !== undefined) throw new ModuleSpecError('--toa-source and --toa-ko exclude each other');
  const exists = io.exists ?? (() => false);
  let name = OWN_MODULE_NAME;
  let choice: ToaModuleChoice = { origin: 'toa-lab' };
  if (flags.toaSource !== undefined) {
    const { name: given, value } = splitNamed(flags.toaSource, exists);
    if (!value) throw new ModuleSpecError(`--toa-source ${flags.toaSource}: no location after the name`);
    choice = { origin: 'source', location: value };
    name = given ?? defaultName(value);
  }
  if (flags.toaKo !== undefined) {
    const { name: given, value } = splitNamed(flags.toaKo, exists);
    if (!value) throw new ModuleSpecError(`--toa-ko ${flags.toaKo}: no file after the name`);
    choice = { origin: 'prebuilt', path: io.resolvePath ? io.resolvePath(value) : value };
    name = given ?? defaultName(value);
  }
  if (flags.moduleKinds === undefined) return { name, choice, kinds: [balancerKind], kindsDeclared: false };
  const { name: forModule, value } = splitNamed(flags.moduleKinds);
  if (forModule !== undefined && forModule !== name) {
    throw new ModuleSpecError(`--module-kinds names module '${forModule}', but the module under test is '${name}'`);
  }
  const kinds = parseKinds(value);
  if (choice.origin === 'toa-lab' && kinds.length > OWN_MODULE_MAX_KINDS) {
    throw new ModuleSpecError(`--module-kinds: toa-lab's module takes at most ${OWN_MODULE_MAX_KINDS} kinds (toa_kinds), got ${kinds.length}`);
  }
  return { name, choice, kinds, kindsDeclared: true };
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
