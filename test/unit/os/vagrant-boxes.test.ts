import { describe, expect, it } from 'vitest';
import {
  boxFitsLab,
  describeBoxProviders,
  GUIDE_PROFILES,
  LAB_VAGRANT_PROVIDER,
  mergeUserImages,
  OS_PROFILES,
  parseUserImageConfig,
  profileById,
  type ImageSource,
} from '../../../harness/os/index.ts';

type Box = Extract<ImageSource, { kind: 'vagrant-box' }>;
const boxes = (id: string): Box[] => profileById(id).images.filter((s): s is Box => s.kind === 'vagrant-box');

describe('Vagrant boxes and the providers they are published for', () => {
  it('every built-in box says what it is published for, and on what basis (not verified here)', () => {
    for (const profile of OS_PROFILES) {
      for (const box of boxes(profile.id)) {
        expect(box.providers?.published.length, `${profile.id} ${box.box}`).toBeGreaterThan(0);
        expect(box.providers?.basis, `${profile.id} ${box.box}`).toMatch(/not verified here/);
      }
    }
  });

  it('every guide row with a box offers one the lab\'s vagrant-libvirt can boot, first', () => {
    expect(LAB_VAGRANT_PROVIDER).toBe('libvirt');
    for (const profile of GUIDE_PROFILES) {
      const first = boxes(profile.id)[0];
      if (first) expect(boxFitsLab(first), `${profile.id} ${first.box}`).toBe('yes');
    }
    expect(boxes('ubuntu-20.04').map((b) => b.box)).toEqual(['generic/ubuntu2004', 'ubuntu/focal64']);
    expect(boxes('centos-8').map((b) => b.box)).toEqual(['centos/8']);
  });

  it('keeps the rows\' original VirtualBox-only boxes listed, marked as unusable by the lab', () => {
    const original = ['centos-6.8:bento/centos-6.8', 'centos-7.2:bento/centos-7.2', 'ubuntu-16.04:ubuntu/xenial64', 'ubuntu-18.04:ubuntu/bionic64', 'ubuntu-20.04:ubuntu/focal64', 'opensuse-42.2:bento/opensuse-leap-42.2'];
    for (const entry of original) {
      const [id, name] = entry.split(':') as [string, string];
      const box = boxes(id).find((b) => b.box === name);
      expect(box && boxFitsLab(box), entry).toBe('no');
      expect(describeBoxProviders(box!), entry).toMatch(/only: .* — NOT usable by the lab's vagrant-libvirt\]$/);
    }
    expect(describeBoxProviders(boxes('debian-8.2')[0]!)).toBe("[libvirt, virtualbox: the Debian cloud team's debian/* boxes (not verified here)]");
  });

  it('a user\'s box may say its provider; without it, the provider is unknown', () => {
    const config = parseUserImageConfig({
      images: {
        'centos-7': [{ kind: 'vagrant-box', box: 'acme/c7', provider: 'libvirt' }],
        'rocky-8.5': [{ kind: 'vagrant-box', box: 'acme/r8', provider: 'virtualbox' }],
        'debian-10': [{ kind: 'vagrant-box', box: 'acme/d10' }],
      },
    });
    const merged = mergeUserImages(OS_PROFILES, config);
    const only = (id: string) => profileById(id, merged).images[0] as Box;
    expect(only('centos-7')).toEqual({ kind: 'vagrant-box', box: 'acme/c7', providers: { published: ['libvirt'], basis: 'as the config says' } });
    expect(boxFitsLab(only('centos-7'))).toBe('yes');
    expect(boxFitsLab(only('rocky-8.5'))).toBe('no');
    expect(boxFitsLab(only('debian-10'))).toBe('unknown');
    expect(describeBoxProviders(only('debian-10'))).toBe("[providers not known: the lab's vagrant-libvirt needs a libvirt box]");
    expect(() => parseUserImageConfig({ images: { 'centos-7': [{ kind: 'vagrant-box', box: 'a/b', provider: 'kvm' }] } })).toThrow(
      /images.centos-7\[0\].provider must be one of libvirt, virtualbox, vmware_desktop, hyperv, parallels \(found "kvm"\)/,
    );
  });
});
