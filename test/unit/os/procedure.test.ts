import { describe, expect, it } from 'vitest';
import { OS_PROFILES, profileById, renderProcedure } from '../../../harness/os/index.ts';
import { canonicalOptions, stepOf, supportsDkms } from './helpers.ts';

describe('renderProcedure', () => {
  it('renders the six steps in the guides\' order (after the repositories step where the row names a mirror), each a complete script with a verify script', () => {
    for (const profile of OS_PROFILES) {
      const steps = renderProcedure(profile, canonicalOptions());
      const mirror = profile.repositories ? ['repositories'] : [];
      expect(steps.map((s) => s.id), profile.id).toEqual([...mirror, 'toolchain', 'toa-build', 'toa-load', 'autoload', 'vip', 'backend']);
      for (const step of steps) {
        expect(step.script, `${profile.id} ${step.id}`).toMatch(/^#!\/bin\/sh\n(# .*\n)+set -eu\n/);
        expect(step.verify, `${profile.id} ${step.id}`).toMatch(/^#!\/bin\/sh\n/);
        expect(step.interpreter).toBe('/bin/sh');
        expect(step.name.length).toBeGreaterThan(0);
      }
    }
  });

  it('renders the UserData form for bash', () => {
    const vip = stepOf(renderProcedure(profileById('ubuntu-18.04'), canonicalOptions({ vipForm: 'cloud-init' })), 'vip');
    expect([vip.interpreter, vip.script.split('\n')[0]]).toEqual(['/bin/bash', '#!/bin/bash']);
  });

  it('labels VIPs lo:1, lo:2, … in the order given', () => {
    const vip = stepOf(renderProcedure(profileById('centos-7'), canonicalOptions({ vips: ['198.51.100.7', '192.0.2.1', '203.0.113.9'] })), 'vip');
    expect(vip.files?.map((f) => f.content.split('\n').slice(0, 2).join(' '))).toEqual([
      'DEVICE=lo:1 IPADDR=198.51.100.7',
      'DEVICE=lo:2 IPADDR=192.0.2.1',
      'DEVICE=lo:3 IPADDR=203.0.113.9',
    ]);
  });

  it('lets a run pick another of the profile\'s VIP methods, and only those', () => {
    const debian = profileById('debian-12');
    expect(stepOf(renderProcedure(debian, canonicalOptions({ vipMethod: 'netplan' })), 'vip').files?.[0]?.path).toBe('/etc/netplan/lo-cloud-init.yaml');
    expect(() => renderProcedure(debian, canonicalOptions({ vipMethod: 'ifcfg' }))).toThrow(
      /debian-12 does not support VIP method 'ifcfg' \(supported: interfaces-d, netplan\)/,
    );
  });

  it('renders dkms for systemd rows with an out-of-tree module, and refuses it elsewhere', () => {
    for (const profile of OS_PROFILES) {
      const render = () => renderProcedure(profile, canonicalOptions({ autoload: 'dkms' }));
      if (supportsDkms(profile)) {
        const autoload = stepOf(render(), 'autoload');
        expect(autoload.files?.map((f) => f.path), profile.id).toEqual(['/usr/src/toa-1.0/dkms.conf', '/etc/modules-load.d/toa.conf']);
        expect(autoload.script).toMatch(/dkms install -m toa -v 1\.0 -k "\$release"/);
      } else {
        expect(render, profile.id).toThrow(/dkms autoload needs systemd/);
      }
    }
  });

  it('rejects options that would not make a safe or meaningful script, naming each problem', () => {
    const profile = profileById('debian-12');
    const bad = () =>
      renderProcedure(profile, {
        toaSourceDir: 'root/toa dir',
        vips: ['192.0.2.1', '2001:db8::1', '192.0.2.1'],
        backend: { port: 70000, kind: 'python', accessLog: '/var/log/$(reboot)' },
        moduleParams: ['kinds=254; reboot'],
      });
    expect(bad).toThrow(/cannot render the procedure for debian-12/);
    for (const problem of [
      /toaSourceDir must be an absolute path/,
      /VIP '2001:db8::1' is not a dotted-quad IPv4 address/,
      /vips has duplicates/,
      /backend.port must be 1..65535/,
      /backend.accessLog must be an absolute file path/,
      /module parameter 'kinds=254; reboot'/,
    ]) {
      expect(bad).toThrow(problem);
    }
    expect(() => renderProcedure(profile, canonicalOptions({ vips: [] }))).toThrow(/vips must name at least one VIP/);
  });

  it('puts toa.ko at <toaSourceDir>/toa.ko for every later step, whatever the trailing slash', () => {
    const steps = renderProcedure(profileById('centos-7'), canonicalOptions({ toaSourceDir: '/root/TCP_option_address/' }));
    expect(stepOf(steps, 'toa-load').script).toContain('insmod /root/TCP_option_address/toa.ko ||');
    expect(stepOf(steps, 'autoload').files?.[0]?.content).toContain('/sbin/insmod /root/TCP_option_address/toa.ko\n');
  });

  it('serves nginx with access_log <path> combined on the port', () => {
    const backend = stepOf(
      renderProcedure(profileById('debian-12'), canonicalOptions({ backend: { port: 8080, kind: 'nginx', accessLog: '/var/log/toa-lab/nginx.log' } })),
      'backend',
    );
    const site = backend.files?.[0]?.content ?? '';
    expect(site).toContain('    listen 8080 default_server;\n');
    expect(site).toContain('    access_log /var/log/toa-lab/nginx.log combined;\n');
    expect(backend.script).toContain('nginx -t ||');
  });
});
