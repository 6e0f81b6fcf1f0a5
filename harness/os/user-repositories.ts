import { repositoryUrlProblems } from './procedure.ts';
import type { OsProfile, RepositoryMirror } from './profile.ts';

/**
 * A user's mirror or archive for a row's packages, in toa-lab.config.json beside `images`,
 * keyed by profile id like it:
 *
 * ```json
 * { "repositories": { "centos-6.8": { "archive": "http://vault.centos.org/6.10" },
 *                     "debian-12":  { "mirror": "http://mirror.example/debian", "security": "http://mirror.example/debian-security" } } }
 * ```
 * - `mirror`: a live mirror of the release; `archive`: an end-of-life release's frozen archive
 *   (apt then accepts its expired Release files). Exactly one of the two.
 * - `security` (apt only): where the security suites are, when not under the same URL.
 * - `null` instead of an object: no mirror for that row (the image's own repositories), even
 *   where the row's data names one.
 * A row's entry replaces its built-in one whole.
 */
export type UserRepositories = Record<string, RepositoryMirror | null>;

export function parseUserRepositories(value: unknown): UserRepositories {
  if (value === undefined) return {};
  if (!isRecord(value)) throw new Error('user config: repositories must be an object { <profile id>: { "mirror" | "archive": URL } }');
  const result: UserRepositories = {};
  for (const [id, entry] of Object.entries(value)) result[id] = parseEntry(entry, `repositories.${id}`);
  return result;
}

function parseEntry(entry: unknown, where: string): RepositoryMirror | null {
  if (entry === null) return null;
  if (!isRecord(entry)) throw new Error(`user config: ${where} must be an object or null`);
  const unknown = Object.keys(entry).filter((key) => !['mirror', 'archive', 'security'].includes(key));
  if (unknown.length) throw new Error(`user config: ${where} has unknown keys ${unknown.join(', ')} (known: mirror, archive, security)`);
  const kinds = (['mirror', 'archive'] as const).filter((kind) => entry[kind] !== undefined);
  if (kinds.length !== 1) throw new Error(`user config: ${where} must have exactly one of "mirror" (a live mirror) or "archive" (an end-of-life release's archive)`);
  const kind = kinds[0]!;
  const text = (key: string): string => {
    const v = entry[key];
    if (typeof v !== 'string' || v === '') throw new Error(`user config: ${where}.${key} must be a non-empty string`);
    return v.replace(/\/+$/, '');
  };
  const mirror: RepositoryMirror = { kind, url: text(kind), ...(entry.security !== undefined && { securityUrl: text('security') }), note: 'as the config says' };
  const problems = repositoryUrlProblems(mirror);
  if (problems.length) throw new Error(`user config: ${where}: ${problems.join('; ')}`);
  return mirror;
}

/** The rows with the user's repositories in place of their own; unknown profile ids are an error (a typo would go unnoticed). */
export function mergeUserRepositories(profiles: readonly OsProfile[], user: UserRepositories): OsProfile[] {
  const known = new Set(profiles.map((p) => p.id));
  const unknown = Object.keys(user).filter((id) => !known.has(id));
  if (unknown.length > 0) throw new Error(`user config: repositories names unknown profiles: ${unknown.join(', ')} (known: ${[...known].join(', ')})`);
  return profiles.map((profile) => {
    if (!(profile.id in user)) return profile;
    const mirror = user[profile.id];
    if (mirror) return { ...profile, repositories: mirror };
    const { repositories: _replaced, ...rest } = profile;
    return rest;
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
