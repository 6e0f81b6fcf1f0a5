/**
 * A kernel's upstream version as numbers, so that behaviour that changed in
 * some release is keyed on a comparison (`atLeast(v, 7, 2)`), never on a
 * pattern over a package or cell name.
 */
export interface KernelVersion {
  major: number;
  minor: number;
  patch: number;
}

/** `uname -r` (6.1.0-57-amd64, 7.2.13+deb14-amd64, 7.3-amd64, 2.6.32-754.el6.x86_64) → numbers. */
export function parseKernelRelease(release: string): KernelVersion {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(release.trim());
  if (!m) throw new Error(`not a kernel release: '${release}'`);
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0) };
}

export function atLeast(version: KernelVersion, major: number, minor: number): boolean {
  return version.major > major || (version.major === major && version.minor >= minor);
}

export function formatKernelVersion(v: KernelVersion): string {
  return `${v.major}.${v.minor}.${v.patch}`;
}
