/**
 * Which guide row an image is, from what the guest itself says: /etc/os-release
 * (every systemd-era distro), /etc/redhat-release (CentOS 6 has no os-release),
 * /etc/SuSE-release (SLES 11). An OS with no row of its own gets its family's
 * row, chosen by package manager, and the report says so (`match: 'family'`).
 */
export interface ReleaseFiles {
  osRelease?: string;
  redhatRelease?: string;
  suseRelease?: string;
}

export interface DetectedOs {
  profileId: string;
  /** `row`: the guides list this OS; `family`: the nearest row of its family (said in the report). */
  match: 'row' | 'family';
  /** What the guest said, in one line (PRETTY_NAME or the release file's first line). */
  description: string;
}

/** One command that prints the three files between markers (missing ones print nothing). */
export const RELEASE_FILES_COMMAND = [
  'echo "--- os-release"; cat /etc/os-release 2>/dev/null',
  'echo "--- redhat-release"; cat /etc/redhat-release 2>/dev/null',
  'echo "--- suse-release"; cat /etc/SuSE-release 2>/dev/null',
  'true',
].join('; ');

export function parseReleaseFiles(output: string): ReleaseFiles {
  const sections: Record<string, string> = {};
  let current: string | undefined;
  for (const line of output.split('\n')) {
    const marker = /^--- (os-release|redhat-release|suse-release)$/.exec(line);
    if (marker) current = marker[1]!;
    else if (current) sections[current] = `${sections[current] ?? ''}${line}\n`;
  }
  const nonEmpty = (text: string | undefined) => (text?.trim() ? text : undefined);
  const osRelease = nonEmpty(sections['os-release']);
  const redhatRelease = nonEmpty(sections['redhat-release']);
  const suseRelease = nonEmpty(sections['suse-release']);
  return { ...(osRelease && { osRelease }), ...(redhatRelease && { redhatRelease }), ...(suseRelease && { suseRelease }) };
}

/** Exact rows first (ID + VERSION_ID as the guides name them), then the family. */
const ROWS: ReadonlyArray<{ id: string; version: RegExp; profileId: string }> = [
  { id: 'centos', version: /^7(\.2)/, profileId: 'centos-7.2' },
  { id: 'centos', version: /^7/, profileId: 'centos-7' },
  { id: 'centos', version: /^8/, profileId: 'centos-8' },
  { id: 'rocky', version: /^8\.5/, profileId: 'rocky-8.5' },
  { id: 'ubuntu', version: /^16\.04/, profileId: 'ubuntu-16.04' },
  { id: 'ubuntu', version: /^18\.04/, profileId: 'ubuntu-18.04' },
  { id: 'ubuntu', version: /^20\.04/, profileId: 'ubuntu-20.04' },
  { id: 'debian', version: /^8/, profileId: 'debian-8.2' },
  { id: 'debian', version: /^10/, profileId: 'debian-10' },
  { id: 'debian', version: /^11/, profileId: 'debian-11' },
  { id: 'debian', version: /^12/, profileId: 'debian-12' },
  { id: 'debian', version: /^13/, profileId: 'debian-13' },
  { id: 'opensuse-leap', version: /^42\.2/, profileId: 'opensuse-42.2' },
  { id: 'opensuse', version: /^42\.2/, profileId: 'opensuse-42.2' },
  { id: 'sles', version: /^11/, profileId: 'suse-11-sp3' },
];

/** A family's nearest row, by what ID / ID_LIKE name (their package manager decides the procedure). */
const FAMILIES: ReadonlyArray<{ like: string; profileId: string }> = [
  { like: 'ubuntu', profileId: 'ubuntu-20.04' },
  { like: 'debian', profileId: 'debian-12' },
  { like: 'rhel', profileId: 'rocky-8.5' },
  { like: 'fedora', profileId: 'rocky-8.5' },
  { like: 'centos', profileId: 'centos-7' },
  { like: 'suse', profileId: 'opensuse-42.2' },
];

export class UnknownOsError extends Error {
  override readonly name = 'UnknownOsError';
}

export function detectOs(files: ReleaseFiles): DetectedOs {
  if (files.osRelease) {
    const fields = parseOsRelease(files.osRelease);
    const id = (fields.ID ?? '').toLowerCase();
    const version = fields.VERSION_ID ?? '';
    const description = fields.PRETTY_NAME ?? `${id} ${version}`.trim();
    const row = ROWS.find((r) => r.id === id && r.version.test(version));
    if (row) return { profileId: row.profileId, match: 'row', description };
    const like = [id, ...(fields.ID_LIKE ?? '').toLowerCase().split(/\s+/)];
    const family = FAMILIES.find((f) => like.includes(f.like));
    if (family) return { profileId: family.profileId, match: 'family', description };
    throw new UnknownOsError(`no guide row or family for ${description} (ID=${id}, ID_LIKE=${fields.ID_LIKE ?? ''}): name one with --profile`);
  }
  if (files.redhatRelease) {
    const line = files.redhatRelease.trim().split('\n')[0]!;
    // "CentOS release 6.8 (Final)": CentOS 6 predates os-release.
    if (/release 6\./.test(line)) return { profileId: 'centos-6.8', match: /release 6\.8/.test(line) ? 'row' : 'family', description: line };
    return { profileId: 'centos-7', match: 'family', description: line };
  }
  if (files.suseRelease) {
    const line = files.suseRelease.trim().split('\n')[0]!;
    return { profileId: 'suse-11-sp3', match: /VERSION = 11/.test(files.suseRelease) && /PATCHLEVEL = 3/.test(files.suseRelease) ? 'row' : 'family', description: line };
  }
  throw new UnknownOsError('the guest has none of /etc/os-release, /etc/redhat-release, /etc/SuSE-release: name its row with --profile');
}

/** KEY=value lines, values optionally quoted (os-release(5)). */
export function parseOsRelease(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match) fields[match[1]!] = match[2]!.replace(/^(["'])(.*)\1$/, '$2');
  }
  return fields;
}
