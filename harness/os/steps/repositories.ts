import type { ProcedureStep, RenderContext } from '../procedure.ts';
import type { PackageManager, RepositoryMirror } from '../profile.ts';
import { EXIT_CODES, shellQuote, shScript, writeFileLines, type GuestFile } from '../shell.ts';

/**
 * Before the toolchain: point the guest's package manager at the row's mirror or archive
 * (profile.repositories, see RepositoryMirror for what its URL replaces per family). One
 * renderer per package-manager family, chosen by the profile's typed `packageManager`.
 *
 * - Each original definition file is kept once, under /var/lib/toa-lab/repositories (where
 *   no package manager reads it), so the step can be undone and run again: a second run
 *   rewrites nothing new and passes.
 * - A guest with nothing of the expected form to rewrite is a precondition failure (exit 4)
 *   naming what was looked for, rather than a toolchain step failing later for another reason.
 * - Nothing is fetched here: the toolchain step's refresh and install are the evidence that the
 *   mirror answers (through the run's package proxy, which allows the mirror's host).
 */

interface FamilyRendering {
  /** What `verify` and the step's name say was changed. */
  where: string;
  body: string[];
  verify: string[];
  files?: GuestFile[];
}

const BACKUP_DIR = '/var/lib/toa-lab/repositories';

/** Copies "$1" to the backup folder unless a copy is there already (the original, from the first run). */
const BACKUP_FUNCTION = [
  'backup_once() {',
  `  mkdir -p ${BACKUP_DIR}`,
  `  [ -e "${BACKUP_DIR}/$(basename "$1")" ] || cp -p "$1" "${BACKUP_DIR}/"`,
  '}',
];

const RENDERERS: Record<PackageManager, (mirror: RepositoryMirror) => FamilyRendering> = {
  yum: yumRepos,
  dnf: yumRepos,
  apt: aptSources,
  zypper: zyppRepos,
};

export function renderRepositories({ profile }: RenderContext, mirror: RepositoryMirror): ProcedureStep {
  const family = RENDERERS[profile.packageManager](mirror);
  const label = mirror.kind === 'archive' ? 'archive' : 'mirror';
  return {
    id: 'repositories',
    name: `Point ${profile.packageManager} at the ${label} ${mirror.url} (${family.where})`,
    interpreter: '/bin/sh',
    script: shScript(`repositories for ${profile.displayName}: the ${label} ${mirror.url}`, family.body),
    ...(family.files && { files: family.files }),
    verify: shScript(`verify repositories for ${profile.displayName}`, family.verify),
  };
}

/**
 * CentOS 6/7/8 and Rocky: each `.repo` file whose commented-out `baseurl=` has the usual
 * `<scheme>://<host>/<dir>/$releasever/` form gets that prefix replaced by the mirror and
 * its `mirrorlist=`/`metalink=` lines commented out (the well-known vault.centos.org fix).
 */
function yumRepos(mirror: RepositoryMirror): FamilyRendering {
  return repoFileRewrite(mirror, {
    dir: '/etc/yum.repos.d',
    where: 'mirrorlist → baseurl',
    candidate: "grep -q '^#*baseurl=https*://[^/]*/[^/]*/[$]releasever/' \"$repo\" || continue",
    rewrite: [
      "sed -i -e 's|^mirrorlist=|#mirrorlist=|' -e 's|^metalink=|#metalink=|' \\",
      "  -e 's|^#*baseurl=https*://[^/]*/[^/]*/[$]releasever/|baseurl='\"$mirror\"'/|' \"$repo\"",
    ],
    expectedForm: 'a baseurl of the form <scheme>://<host>/<dir>/\\$releasever/',
  });
}

/**
 * Debian and Ubuntu: the URI of every source entry — one-line (`sources.list`, `*.list`) and
 * deb822 (`*.sources`) — becomes the mirror, suites and components unchanged; security suites
 * (`<suite>-security`, and jessie's `jessie/updates`) take the security URL. For an archive, apt is told to
 * accept Release files past their Valid-Until date.
 */
function aptSources(mirror: RepositoryMirror): FamilyRendering {
  const validUntil: GuestFile = { path: '/etc/apt/apt.conf.d/90toa-lab-archive', content: 'Acquire::Check-Valid-Until "false";\n', mode: 0o644 };
  const security = mirror.securityUrl ?? mirror.url;
  const isSecurity = '/(-security|\\/updates)$/';
  return {
    where: `sources.list, sources.list.d${mirror.kind === 'archive' ? ', Check-Valid-Until off' : ''}`,
    ...(mirror.kind === 'archive' && { files: [validUntil] }),
    body: [
      `mirror=${shellQuote(mirror.url)}`,
      `security=${shellQuote(security)}`,
      ...BACKUP_FUNCTION,
      '',
      '# One-line form: deb [options] URI SUITE COMPONENT...',
      'rewrite_list() {',
      `  awk -v main="$mirror" -v security="$security" '`,
      '    /^[ \\t]*deb(-src)?[ \\t]/ {',
      '      i = 2',
      '      if ($i ~ /^\\[/) { while (i < NF && $i !~ /\\]$/) i++; i++ }',
      `      $i = ($(i + 1) ~ ${isSecurity}) ? security : main`,
      '      changed++',
      '    }',
      '    { print }',
      '    END { exit changed == 0 }\' "$1" > "$1.toa-lab-new" || { rm -f "$1.toa-lab-new"; return 1; }',
      '  cat "$1.toa-lab-new" > "$1"',
      '  rm -f "$1.toa-lab-new"',
      '}',
      '# deb822 form: stanzas of Types/URIs/Suites/Components; URIs follows the stanza\'s first suite.',
      'rewrite_sources() {',
      `  awk -v main="$mirror" -v security="$security" '`,
      '    function flush(   j, s) {',
      '      split(suites, s, " ")',
      '      for (j = 1; j <= n; j++) {',
      `        if (lines[j] ~ /^URIs:/) { lines[j] = "URIs: " ((s[1] ~ ${isSecurity}) ? security : main); changed++ }`,
      '        print lines[j]',
      '      }',
      '      n = 0',
      '      suites = ""',
      '    }',
      '    /^[ \\t]*$/ { flush(); print; next }',
      '    { lines[++n] = $0 }',
      '    /^Suites:/ { suites = substr($0, 8) }',
      '    END { flush(); exit changed == 0 }\' "$1" > "$1.toa-lab-new" || { rm -f "$1.toa-lab-new"; return 1; }',
      '  cat "$1.toa-lab-new" > "$1"',
      '  rm -f "$1.toa-lab-new"',
      '}',
      '',
      'rewritten=0',
      'for list in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do',
      '  [ -f "$list" ] || continue',
      '  backup_once "$list"',
      '  if rewrite_list "$list"; then rewritten=$((rewritten + 1)); echo "toa-lab: $list now names $mirror"; fi',
      'done',
      'for sources in /etc/apt/sources.list.d/*.sources; do',
      '  [ -f "$sources" ] || continue',
      '  backup_once "$sources"',
      '  if rewrite_sources "$sources"; then rewritten=$((rewritten + 1)); echo "toa-lab: $sources now names $mirror"; fi',
      'done',
      `[ "$rewritten" -gt 0 ] || die ${EXIT_CODES.precondition} "no apt source entry in /etc/apt/sources.list or /etc/apt/sources.list.d to point at $mirror"`,
      ...(mirror.kind === 'archive'
        ? ["# An archive's Release files are past their Valid-Until date.", ...writeFileLines(validUntil)]
        : [`rm -f ${validUntil.path}`]),
    ],
    verify: [
      `mirror=${shellQuote(mirror.url)}`,
      'cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -q -F " $mirror" ||',
      `  die ${EXIT_CODES.failure} "no apt source names $mirror"`,
      ...(mirror.kind === 'archive' ? [`[ -f ${validUntil.path} ] || die ${EXIT_CODES.failure} "${validUntil.path} is missing"`] : []),
    ],
  };
}

/** openSUSE and SLES: `<scheme>://<host>` of every `baseurl=` in /etc/zypp/repos.d becomes the mirror. */
function zyppRepos(mirror: RepositoryMirror): FamilyRendering {
  return repoFileRewrite(mirror, {
    dir: '/etc/zypp/repos.d',
    where: 'baseurl host',
    candidate: 'grep -q \'^baseurl=https*://\' "$repo" || continue',
    rewrite: [
      '# Lines already on the mirror stay as they are: a second run changes nothing.',
      "sed -i -e '\\|^baseurl='\"$mirror\"'/|!s|^baseurl=https*://[^/]*/|baseurl='\"$mirror\"'/|' \"$repo\"",
    ],
    expectedForm: 'a baseurl=http(s)://…',
  });
}

/**
 * The `.repo`-file families (yum/dnf, zypper) share one shape: every file of `dir` that
 * `candidate` accepts is backed up once and rewritten; then at least one must name the mirror.
 */
function repoFileRewrite(
  mirror: RepositoryMirror,
  form: { dir: string; where: string; candidate: string; rewrite: string[]; expectedForm: string },
): FamilyRendering {
  const { dir } = form;
  return {
    where: `${dir}/*.repo: ${form.where}`,
    body: [
      `mirror=${shellQuote(mirror.url)}`,
      ...BACKUP_FUNCTION,
      '',
      `for repo in ${dir}/*.repo; do`,
      '  [ -f "$repo" ] || continue',
      `  ${form.candidate}`,
      '  backup_once "$repo"',
      ...form.rewrite.map((line) => `  ${line}`),
      '  echo "toa-lab: $repo now names $mirror"',
      'done',
      `grep -l -F "baseurl=$mirror/" ${dir}/*.repo >/dev/null 2>&1 ||`,
      `  die ${EXIT_CODES.precondition} "no repository in ${dir} has ${form.expectedForm} to point at $mirror"`,
    ],
    verify: [
      `mirror=${shellQuote(mirror.url)}`,
      `grep -l -F "baseurl=$mirror/" ${dir}/*.repo >/dev/null 2>&1 || die ${EXIT_CODES.failure} "no repository in ${dir} names $mirror"`,
    ],
  };
}
