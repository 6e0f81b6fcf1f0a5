import { describe, expect, it } from 'vitest';
import { detectOs, parseReleaseFiles, UnknownOsError } from '../../../harness/os/detect-os.ts';
import { profileById } from '../../../harness/os/index.ts';

const osRelease = (id: string, version: string, extra = '') => `PRETTY_NAME="${id} ${version}"\nID=${id}\nVERSION_ID="${version}"\n${extra}`;

describe('detectOs', () => {
  it.each([
    ['debian', '12', 'debian-12'],
    ['debian', '13', 'debian-13'],
    ['ubuntu', '20.04', 'ubuntu-20.04'],
    ['ubuntu', '18.04', 'ubuntu-18.04'],
    ['centos', '7', 'centos-7'],
    ['centos', '8', 'centos-8'],
    ['rocky', '8.5', 'rocky-8.5'],
    ['opensuse-leap', '42.2', 'opensuse-42.2'],
  ])('maps %s %s to the guide row %s', (id, version, profileId) => {
    const detected = detectOs({ osRelease: osRelease(id, version) });
    expect(detected).toEqual({ profileId, match: 'row', description: `${id} ${version}` });
    expect(profileById(detected.profileId).id).toBe(profileId);
  });

  it("gives an OS without a row its family's row, and says so", () => {
    expect(detectOs({ osRelease: osRelease('linuxmint', '21', 'ID_LIKE="ubuntu debian"') })).toMatchObject({ profileId: 'ubuntu-20.04', match: 'family' });
    expect(detectOs({ osRelease: osRelease('almalinux', '9.3', 'ID_LIKE="rhel centos fedora"') })).toMatchObject({ profileId: 'rocky-8.5', match: 'family' });
    expect(detectOs({ osRelease: osRelease('ubuntu', '22.04') })).toMatchObject({ profileId: 'ubuntu-20.04', match: 'family' });
  });

  it('reads CentOS 6 and SLES 11 from their own release files', () => {
    expect(detectOs({ redhatRelease: 'CentOS release 6.8 (Final)\n' })).toMatchObject({ profileId: 'centos-6.8', match: 'row' });
    expect(detectOs({ suseRelease: 'SUSE Linux Enterprise Server 11 (x86_64)\nVERSION = 11\nPATCHLEVEL = 3\n' })).toMatchObject({ profileId: 'suse-11-sp3', match: 'row' });
  });

  it('refuses an OS it cannot place, naming the way out', () => {
    expect(() => detectOs({ osRelease: osRelease('plan9', '4') })).toThrow(UnknownOsError);
    expect(() => detectOs({})).toThrow(/--profile/);
  });

  it('splits the guest command output into the three files', () => {
    const files = parseReleaseFiles(`--- os-release\n${osRelease('debian', '12')}--- redhat-release\n--- suse-release\n`);
    expect(Object.keys(files)).toEqual(['osRelease']);
    expect(detectOs(files).profileId).toBe('debian-12');
  });
});
