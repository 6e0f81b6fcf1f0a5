import { mkdirSync, readFileSync, writeFileSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  EXIT_CODES,
  mergeUserRepositories,
  OS_PROFILES,
  parseUserRepositories,
  profileById,
  renderProcedure,
  repositoryHosts,
  type OsProfile,
  type RepositoryMirror,
} from '../../../harness/os/index.ts';
import { applyUserConfig } from '../../../harness/os/user-config.ts';
import { selectImages } from '../../../harness/runner/cell-plan.ts';
import { canonicalOptions, Sandbox, stepOf } from './helpers.ts';

/**
 * The repositories step (harness/os/steps/repositories.ts): which rows get it, and each
 * package-manager family's form run for real against the files those distributions ship,
 * relocated into a sandbox (the OSes themselves do not boot here).
 */

const ARCHIVE = (url: string, securityUrl?: string): RepositoryMirror => ({ kind: 'archive', url, ...(securityUrl && { securityUrl }) });
const MIRROR = (url: string, securityUrl?: string): RepositoryMirror => ({ kind: 'mirror', url, ...(securityUrl && { securityUrl }) });

function repositoriesStep(id: string, mirror?: RepositoryMirror) {
  const profile: OsProfile = mirror ? { ...profileById(id), repositories: mirror } : profileById(id);
  return stepOf(renderProcedure(profile, canonicalOptions()), 'repositories');
}

/** CentOS 6's CentOS-Base.repo, as the release ships it (base and updates; the rest alike). */
const CENTOS6_BASE = `[base]
name=CentOS-$releasever - Base
mirrorlist=http://mirrorlist.centos.org/?release=$releasever&arch=$basearch&repo=os&infra=$infra
#baseurl=http://mirror.centos.org/centos/$releasever/os/$basearch/
gpgcheck=1
gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-CentOS-6

[updates]
name=CentOS-$releasever - Updates
mirrorlist=http://mirrorlist.centos.org/?release=$releasever&arch=$basearch&repo=updates&infra=$infra
#baseurl=http://mirror.centos.org/centos/$releasever/updates/$basearch/
gpgcheck=1
`;

/** CentOS 8's CentOS-Linux-BaseOS.repo ($contentdir, BaseOS/…/os). */
const CENTOS8_BASEOS = `[baseos]
name=CentOS Linux $releasever - BaseOS
mirrorlist=http://mirrorlist.centos.org/?release=$releasever&arch=$basearch&repo=BaseOS&infra=$infra
#baseurl=http://mirror.centos.org/$contentdir/$releasever/BaseOS/$basearch/os/
gpgcheck=1
enabled=1
`;

/** EPEL: another project's layout, which the CentOS vault does not carry — left alone. */
const EPEL = `[epel]
name=Extra Packages for Enterprise Linux 7 - $basearch
#baseurl=http://download.fedoraproject.org/pub/epel/7/$basearch
metalink=https://mirrors.fedoraproject.org/metalink?repo=epel-7&arch=$basearch
`;

/** openSUSE Leap 42.2's repo-oss.repo and repo-update.repo. */
const LEAP_OSS = `[repo-oss]
name=openSUSE-leap/42.2-Oss
enabled=1
autorefresh=1
baseurl=http://download.opensuse.org/distribution/leap/42.2/repo/oss/
type=yast2
`;
const LEAP_UPDATE = `[repo-update]
name=openSUSE-42.2-Update
enabled=1
baseurl=http://download.opensuse.org/update/leap/42.2/oss/
type=rpm-md
`;

/** Debian 8's sources.list, with options on the security line; Debian 13's deb822 file. */
const JESSIE_SOURCES = `# deb http://httpredir.debian.org/debian jessie main

deb http://httpredir.debian.org/debian jessie main
deb-src http://httpredir.debian.org/debian jessie main
deb [arch=amd64] http://security.debian.org/ jessie/updates main
deb http://httpredir.debian.org/debian jessie-updates main
`;
const TRIXIE_SOURCES = `Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie trixie-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
# the security archive
URIs: http://deb.debian.org/debian-security
Suites: trixie-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`;

let sandbox: Sandbox;
afterEach(() => sandbox?.remove());

/** Writes `files` (absolute guest paths) into the sandbox, runs the step's script relocated there. */
function runIn(script: string, files: Record<string, string>) {
  sandbox = new Sandbox();
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(sandbox.dir, path, '..'), { recursive: true });
    writeFileSync(join(sandbox.dir, path), content);
  }
  const relocated = sandbox.relocate(script, ['/etc/yum.repos.d', '/etc/zypp', '/etc/apt', '/var/lib/toa-lab']);
  return sandbox.run(relocated);
}

const read = (path: string) => readFileSync(join(sandbox.dir, path), 'utf8');

describe('which rows point their package manager elsewhere', () => {
  it('the end-of-life rows carry their archive, and only they', () => {
    const withMirror = OS_PROFILES.filter((p) => p.repositories).map((p) => [p.id, p.repositories!.kind, p.repositories!.url]);
    expect(withMirror).toEqual([
      ['centos-6.8', 'archive', 'http://vault.centos.org/6.8'],
      ['opensuse-42.2', 'archive', 'http://ftp5.gwdg.de/pub/opensuse/discontinued'],
      ['debian-8.2', 'archive', 'http://archive.debian.org/debian'],
      ['centos-8', 'archive', 'http://vault.centos.org/8.5.2111'],
    ]);
    expect(profileById('debian-8.2').repositories?.securityUrl).toBe('http://archive.debian.org/debian-security');
  });

  it('renders the step first, before the toolchain, named after the family form', () => {
    const steps = renderProcedure(profileById('centos-8'), canonicalOptions());
    expect(steps.slice(0, 2).map((s) => s.id)).toEqual(['repositories', 'toolchain']);
    expect(steps[0]!.name).toBe('Point dnf at the archive http://vault.centos.org/8.5.2111 (/etc/yum.repos.d/*.repo: mirrorlist → baseurl)');
    expect(renderProcedure(profileById('centos-7'), canonicalOptions()).map((s) => s.id)).not.toContain('repositories');
  });

  it('refuses a URL that would not survive sed, awk or the shell', () => {
    for (const url of ['ftp://vault.centos.org/6.8', 'http://vault.centos.org/6.8/', "http://x/a'b", 'http://x/a|b', 'http://x/a&b', 'vault.centos.org/6.8']) {
      expect(() => renderProcedure({ ...profileById('centos-7'), repositories: ARCHIVE(url) }, canonicalOptions()), url).toThrow(/repository URL .* must be http\(s\)/);
    }
    expect(() => renderProcedure({ ...profileById('debian-10'), repositories: MIRROR('http://m.example/debian', 'http://m.example/sec urity') }, canonicalOptions())).toThrow(
      /repository URL 'http:\/\/m.example\/sec urity'/,
    );
  });

  it('names the hosts the package proxy must allow', () => {
    expect(repositoryHosts(profileById('debian-8.2').repositories!)).toEqual(['archive.debian.org']);
    expect(repositoryHosts(MIRROR('http://a.example:8080/debian', 'https://b.example/debian-security'))).toEqual(['a.example', 'b.example']);
  });
});

describe('the yum/dnf form (CentOS 6, 7, 8, Rocky)', () => {
  it('turns CentOS 6\'s mirrorlist into a vault baseurl, keeps the original once, and a second run changes nothing', () => {
    const step = repositoriesStep('centos-6.8');
    const files = { '/etc/yum.repos.d/CentOS-Base.repo': CENTOS6_BASE, '/etc/yum.repos.d/epel.repo': EPEL };
    const first = runIn(step.script, files);
    expect(first.code, first.stderr).toBe(0);
    const rewritten = read('/etc/yum.repos.d/CentOS-Base.repo');
    expect(rewritten).toContain('baseurl=http://vault.centos.org/6.8/os/$basearch/\n');
    expect(rewritten).toContain('baseurl=http://vault.centos.org/6.8/updates/$basearch/\n');
    expect(rewritten).not.toMatch(/^mirrorlist=/m);
    expect(rewritten).toContain('#mirrorlist=http://mirrorlist.centos.org/?release=$releasever&arch=$basearch&repo=os&infra=$infra');
    expect(read('/etc/yum.repos.d/epel.repo')).toBe(EPEL);
    expect(read('/var/lib/toa-lab/repositories/CentOS-Base.repo')).toBe(CENTOS6_BASE);
    const again = sandbox.run(sandbox.relocate(step.script, ['/etc/yum.repos.d', '/var/lib/toa-lab']));
    expect(again.code, again.stderr).toBe(0);
    expect(read('/etc/yum.repos.d/CentOS-Base.repo')).toBe(rewritten);
    expect(read('/var/lib/toa-lab/repositories/CentOS-Base.repo')).toBe(CENTOS6_BASE);
    expect(sandbox.run(sandbox.relocate(step.verify!, ['/etc/yum.repos.d'])).code).toBe(0);
  });

  it('handles CentOS 8\'s $contentdir layout (dnf), and a user\'s Rocky vault the same way', () => {
    expect(runIn(repositoriesStep('centos-8').script, { '/etc/yum.repos.d/CentOS-Linux-BaseOS.repo': CENTOS8_BASEOS }).code).toBe(0);
    expect(read('/etc/yum.repos.d/CentOS-Linux-BaseOS.repo')).toContain('baseurl=http://vault.centos.org/8.5.2111/BaseOS/$basearch/os/\n');
    const rocky = CENTOS8_BASEOS.replace('mirror.centos.org', 'dl.rockylinux.org');
    const run = runIn(repositoriesStep('rocky-8.5', ARCHIVE('https://dl.rockylinux.org/vault/rocky/8.5')).script, { '/etc/yum.repos.d/Rocky-BaseOS.repo': rocky });
    expect(run.code, run.stderr).toBe(0);
    expect(read('/etc/yum.repos.d/Rocky-BaseOS.repo')).toContain('baseurl=https://dl.rockylinux.org/vault/rocky/8.5/BaseOS/$basearch/os/\n');
  });

  it('fails as a precondition, saying what it looked for, when no repository has that form', () => {
    const run = runIn(repositoriesStep('centos-8').script, { '/etc/yum.repos.d/epel.repo': EPEL });
    expect(run.code).toBe(EXIT_CODES.precondition);
    expect(run.stderr).toMatch(/toa-lab: no repository in .*yum\.repos\.d has a baseurl of the form <scheme>:\/\/<host>\/<dir>\/\$releasever\/ to point at http:\/\/vault\.centos\.org\/8\.5\.2111/);
    expect(sandbox.run(sandbox.relocate(repositoriesStep('centos-8').verify!, ['/etc/yum.repos.d'])).code).toBe(EXIT_CODES.failure);
  });
});

describe('the apt form (Debian, Ubuntu)', () => {
  it('points Debian 8 at archive.debian.org (security suites at debian-security) and accepts its expired Release files', () => {
    const step = repositoriesStep('debian-8.2');
    const run = runIn(step.script, { '/etc/apt/sources.list': JESSIE_SOURCES });
    expect(run.code, run.stderr).toBe(0);
    expect(read('/etc/apt/sources.list')).toBe(`# deb http://httpredir.debian.org/debian jessie main

deb http://archive.debian.org/debian jessie main
deb-src http://archive.debian.org/debian jessie main
deb [arch=amd64] http://archive.debian.org/debian-security jessie/updates main
deb http://archive.debian.org/debian jessie-updates main
`);
    expect(read('/etc/apt/apt.conf.d/90toa-lab-archive')).toBe('Acquire::Check-Valid-Until "false";\n');
    expect(step.files).toEqual([{ path: '/etc/apt/apt.conf.d/90toa-lab-archive', content: 'Acquire::Check-Valid-Until "false";\n', mode: 0o644 }]);
    expect(read('/var/lib/toa-lab/repositories/sources.list')).toBe(JESSIE_SOURCES);
    expect(sandbox.run(sandbox.relocate(step.verify!, ['/etc/apt'])).code).toBe(0);
  });

  it('applies to any Debian-family row a config gives a mirror: deb822 stanzas, no Valid-Until change for a live mirror', () => {
    const step = repositoriesStep('debian-13', MIRROR('http://mirror.example/debian', 'http://mirror.example/debian-security'));
    const run = runIn(step.script, {
      '/etc/apt/sources.list': '',
      '/etc/apt/sources.list.d/debian.sources': TRIXIE_SOURCES,
      '/etc/apt/apt.conf.d/90toa-lab-archive': 'left by an earlier run\n',
    });
    expect(run.code, run.stderr).toBe(0);
    expect(read('/etc/apt/sources.list.d/debian.sources')).toBe(
      TRIXIE_SOURCES.replace('URIs: http://deb.debian.org/debian\n', 'URIs: http://mirror.example/debian\n').replace(
        'URIs: http://deb.debian.org/debian-security',
        'URIs: http://mirror.example/debian-security',
      ),
    );
    expect(read('/etc/apt/sources.list')).toBe('');
    expect(existsSync(join(sandbox.dir, '/etc/apt/apt.conf.d/90toa-lab-archive'))).toBe(false);
    expect(step.files).toBeUndefined();
    const again = sandbox.run(sandbox.relocate(step.script, ['/etc/apt', '/var/lib/toa-lab']));
    expect(again.code, again.stderr).toBe(0);
    expect(read('/var/lib/toa-lab/repositories/debian.sources')).toBe(TRIXIE_SOURCES);
  });

  it('sends Ubuntu\'s security pocket to the same archive when no security URL is given', () => {
    const focal = 'deb http://archive.ubuntu.com/ubuntu focal main restricted\ndeb http://security.ubuntu.com/ubuntu focal-security main restricted\n';
    const run = runIn(repositoriesStep('ubuntu-20.04', ARCHIVE('http://old-releases.ubuntu.com/ubuntu')).script, { '/etc/apt/sources.list': focal });
    expect(run.code, run.stderr).toBe(0);
    expect(read('/etc/apt/sources.list')).toBe(
      'deb http://old-releases.ubuntu.com/ubuntu focal main restricted\ndeb http://old-releases.ubuntu.com/ubuntu focal-security main restricted\n',
    );
  });

  it('fails as a precondition when there is no source entry at all', () => {
    const run = runIn(repositoriesStep('debian-8.2').script, { '/etc/apt/sources.list': '# nothing\n' });
    expect(run.code).toBe(EXIT_CODES.precondition);
    expect(run.stderr).toMatch(/no apt source entry in \S*\/etc\/apt\/sources.list or \S*\/etc\/apt\/sources.list.d to point at http:\/\/archive.debian.org\/debian/);
  });
});

describe('the zypper form (openSUSE, SLES)', () => {
  it('moves every baseurl to the archive, paths kept, and a second run changes nothing', () => {
    const step = repositoriesStep('opensuse-42.2');
    const run = runIn(step.script, { '/etc/zypp/repos.d/repo-oss.repo': LEAP_OSS, '/etc/zypp/repos.d/repo-update.repo': LEAP_UPDATE });
    expect(run.code, run.stderr).toBe(0);
    expect(read('/etc/zypp/repos.d/repo-oss.repo')).toContain('baseurl=http://ftp5.gwdg.de/pub/opensuse/discontinued/distribution/leap/42.2/repo/oss/\n');
    expect(read('/etc/zypp/repos.d/repo-update.repo')).toContain('baseurl=http://ftp5.gwdg.de/pub/opensuse/discontinued/update/leap/42.2/oss/\n');
    const first = read('/etc/zypp/repos.d/repo-oss.repo');
    expect(sandbox.run(sandbox.relocate(step.script, ['/etc/zypp', '/var/lib/toa-lab'])).code).toBe(0);
    expect(read('/etc/zypp/repos.d/repo-oss.repo')).toBe(first);
  });
});

describe('a user config\'s repositories', () => {
  it('parses mirror, archive and security, trailing slashes dropped; null means none', () => {
    expect(
      parseUserRepositories({
        'centos-6.8': { archive: 'http://vault.centos.org/6.10/' },
        'debian-12': { mirror: 'http://deb.debian.org/debian', security: 'http://deb.debian.org/debian-security' },
        'centos-8': null,
      }),
    ).toEqual({
      'centos-6.8': { kind: 'archive', url: 'http://vault.centos.org/6.10', note: 'as the config says' },
      'debian-12': { kind: 'mirror', url: 'http://deb.debian.org/debian', securityUrl: 'http://deb.debian.org/debian-security', note: 'as the config says' },
      'centos-8': null,
    });
    expect(parseUserRepositories(undefined)).toEqual({});
  });

  it('names the offending entry of a malformed one', () => {
    expect(() => parseUserRepositories([])).toThrow(/repositories must be an object/);
    expect(() => parseUserRepositories({ 'centos-8': 'http://x' })).toThrow(/repositories.centos-8 must be an object or null/);
    expect(() => parseUserRepositories({ 'centos-8': { mirror: 'http://a', archive: 'http://b' } })).toThrow(/exactly one of "mirror"/);
    expect(() => parseUserRepositories({ 'centos-8': {} })).toThrow(/exactly one of "mirror"/);
    expect(() => parseUserRepositories({ 'centos-8': { vault: 'http://x' } })).toThrow(/unknown keys vault/);
    expect(() => parseUserRepositories({ 'centos-8': { archive: 'http://x/a b' } })).toThrow(/repositories.centos-8: repository URL/);
  });

  it('replaces a row\'s built-in archive, removes it with null, and refuses unknown rows', () => {
    const merged = mergeUserRepositories(OS_PROFILES, parseUserRepositories({ 'centos-6.8': { archive: 'http://vault.centos.org/6.10' }, 'centos-8': null }));
    expect(profileById('centos-6.8', merged).repositories?.url).toBe('http://vault.centos.org/6.10');
    expect(profileById('centos-8', merged).repositories).toBeUndefined();
    expect(profileById('centos-8').repositories?.url).toBe('http://vault.centos.org/8.5.2111');
    expect(() => mergeUserRepositories(OS_PROFILES, { 'centos-6': null })).toThrow(/repositories names unknown profiles: centos-6/);
  });

  it('may be the whole config: a config of repositories only names no images', () => {
    const profiles = applyUserConfig({ repositories: { 'debian-10': { mirror: 'http://mirror.example/debian' } } });
    expect(profileById('debian-10', profiles).repositories?.url).toBe('http://mirror.example/debian');
    expect(profileById('debian-10', profiles).images).toEqual(profileById('debian-10').images);
    expect(() => applyUserConfig({})).toThrow(/expected \{ "images"/);
  });
});

describe('a run of a row with a mirror', () => {
  it('allows the mirror\'s host on the package proxy and carries the mirror to the procedure', () => {
    const dir = mkdtempSync(join(tmpdir(), 'toa-lab-rows-'));
    const disk = join(dir, 'd12.qcow2');
    writeFileSync(disk, '');
    const config = join(dir, 'toa-lab.config.json');
    writeFileSync(
      config,
      JSON.stringify({
        images: { 'debian-8.2': [{ kind: 'local-image', path: disk }], 'debian-12': [{ kind: 'local-image', path: disk }] },
        repositories: { 'debian-12': { archive: 'http://deb.debian.org:80/debian' } },
      }),
    );
    const [jessie, bookworm] = selectImages(['debian-8.2', 'debian-12'], [], config);
    expect(jessie).toMatchObject({ kind: 'full-os', name: 'debian-8.2', repositories: profileById('debian-8.2').repositories });
    expect(jessie?.kind === 'full-os' && jessie.disk?.repositoryHosts).toEqual(['deb.debian.org', 'security.debian.org', 'archive.debian.org']);
    expect(bookworm).toMatchObject({ repositories: { kind: 'archive', url: 'http://deb.debian.org:80/debian' } });
    expect(bookworm?.kind === 'full-os' && bookworm.disk?.repositoryHosts).toEqual(['deb.debian.org', 'security.debian.org']);
    // A row without a mirror: no repositories step, the proxy's default allow-list.
    writeFileSync(config, JSON.stringify({ images: { 'centos-7': [{ kind: 'local-image', path: disk }] } }));
    const [centos7] = selectImages(['centos-7'], [], config);
    expect(centos7).toMatchObject({ kind: 'full-os', name: 'centos-7', disk: { kind: 'disk-image', file: disk } });
    expect(centos7 && 'repositories' in centos7).toBe(false);
    expect(centos7?.kind === 'full-os' && centos7.disk?.repositoryHosts).toBeUndefined();
  });
});
