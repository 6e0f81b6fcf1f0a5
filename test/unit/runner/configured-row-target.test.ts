import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mergeUserImages, OS_PROFILES, parseUserImageConfig, profileById } from '../../../harness/os/index.ts';
import { configuredRowTarget } from '../../../harness/runner/disk-image-targets.ts';
import { UsageError } from '../../../harness/core/usage-error.ts';

/** A config row's source becomes a disk target with its own login, firmware and the row's VIP UserData. */
describe('a config row as a disk target', () => {
  const dir = mkdtempSync(join(tmpdir(), 'toa-lab-row-'));
  const disk = join(dir, 'disk.qcow2');
  const key = join(dir, 'vagrant.key');
  writeFileSync(disk, '');
  writeFileSync(key, '');
  const row = (id: string, entry: Record<string, unknown>) =>
    profileById(id, mergeUserImages(OS_PROFILES, parseUserImageConfig({ images: { [id]: [{ kind: 'local-image', path: disk, ...entry }] } })));

  it('carries the login and the firmware', () => {
    const target = configuredRowTarget(row('debian-12', { login: { user: 'vagrant', privateKeyFile: key }, firmware: 'uefi' }), '/cfg.json');
    expect(target).toMatchObject({ kind: 'disk-image', name: 'debian-12', file: disk, login: { user: 'vagrant', privateKeyFile: key }, firmware: 'uefi' });
    expect(target.vipUserData).toBeUndefined();
  });

  it("renders the row's UserData before boot: the Debian row's interfaces.d by default, netplan when asked", () => {
    const byDefault = configuredRowTarget(row('debian-12', { vipForm: 'cloud-init' }), '/cfg.json').vipUserData!;
    expect(byDefault).toMatchObject({ row: 'debian-12', method: 'interfaces-d' });
    expect(byDefault.script).toMatch(/^#!\/bin\/bash\n# toa-lab: UCloud UserData \(cloud-init\) for Debian 12/);
    expect(byDefault.script).toContain('lo:1');
    const netplan = configuredRowTarget(row('debian-13', { vipForm: 'cloud-init', vipMethod: 'netplan' }), '/cfg.json').vipUserData!;
    expect(netplan).toMatchObject({ row: 'debian-13', method: 'netplan' });
    expect(netplan.script).toContain('netplan apply');
  });

  it('refuses, before anything boots, a method the row does not have and a key that is not there', () => {
    expect(() => configuredRowTarget(row('centos-7', { vipForm: 'cloud-init', vipMethod: 'netplan' }), '/cfg.json')).toThrow(UsageError);
    expect(() => configuredRowTarget(row('centos-7', { vipMethod: 'netplan' }), '/cfg.json')).toThrow(/vipMethod netplan is not one of the row's \(ifcfg\)/);
    expect(() => configuredRowTarget(row('debian-12', { login: { user: 'u', privateKeyFile: join(dir, 'absent') } }), '/cfg.json')).toThrow(
      /debian-12 in \/cfg.json: the login's key .*absent does not exist/,
    );
  });
});
