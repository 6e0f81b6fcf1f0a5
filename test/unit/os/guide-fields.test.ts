import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { OS_PROFILES, profileById, renderProcedure, type GuestFile, type OsProfile } from '../../../harness/os/index.ts';
import { canonicalOptions, Sandbox, stepOf, VIPS, vipForms } from './helpers.ts';

/**
 * The rendered files and commands, field by field, against the guides' text
 * (shared/seeds/huawei-elb-configuring-the-toa-module.txt,
 *  shared/seeds/ucloud-clb-message-forwarding-mode-service-node.txt).
 */

function vipFiles(profile: OsProfile, method = profile.vip[0].method): GuestFile[] {
  return stepOf(renderProcedure(profile, canonicalOptions({ vipMethod: method })), 'vip').files ?? [];
}

function profilesWith(method: string): OsProfile[] {
  return OS_PROFILES.filter((p) => p.vip.some((v) => v.method === method));
}

describe('UCloud: VIP on loopback', () => {
  it('ifcfg-lo:N has exactly DEVICE=lo:N, IPADDR=<vip>, NETMASK=255.255.255.255', () => {
    for (const profile of [...profilesWith('ifcfg'), ...profilesWith('ifcfg-network-scripts')]) {
      const files = vipFiles(profile);
      expect(files.map((f) => f.path), profile.id).toEqual([
        '/etc/sysconfig/network-scripts/ifcfg-lo:1',
        '/etc/sysconfig/network-scripts/ifcfg-lo:2',
      ]);
      files.forEach((file, i) => {
        expect(file.content.split('\n'), file.path).toEqual([`DEVICE=lo:${i + 1}`, `IPADDR=${VIPS[i]}`, 'NETMASK=255.255.255.255', '']);
      });
    }
  });

  it('installs network-scripts first on CentOS 8 and Rocky 8.5 only', () => {
    for (const profile of OS_PROFILES.filter((p) => p.vip[0].method.startsWith('ifcfg'))) {
      const vip = stepOf(renderProcedure(profile, canonicalOptions()), 'vip');
      const userData = stepOf(renderProcedure(profile, canonicalOptions({ vipForm: 'cloud-init' })), 'vip');
      const wants = ['centos-8', 'rocky-8.5'].includes(profile.id);
      expect(vip.script.includes('pkg_install network-scripts'), profile.id).toBe(wants);
      expect(userData.script.split('\n')[2] === 'yum install network-scripts -y', profile.id).toBe(wants);
      expect(vip.script.indexOf('network-scripts || die') < vip.script.indexOf('ifup lo:1'), profile.id).toBe(true);
    }
  });

  it('interfaces.d has the guide\'s four lines per VIP, in the row\'s file', () => {
    const files: Record<string, string> = {
      'ubuntu-16.04': '/etc/network/interfaces.d/lo-cloud-init.cfg',
      'debian-10': '/etc/network/interfaces.d/lo-cloud-init',
    };
    for (const profile of profilesWith('interfaces-d')) {
      const [file, ...others] = vipFiles(profile, 'interfaces-d');
      expect(others).toEqual([]);
      expect(file!.path).toBe(files[profile.id] ?? '/etc/network/interfaces.d/lo-cloud-init');
      const stanzas = file!.content.trimEnd().split('\n\n').map((s) => s.split('\n'));
      expect(stanzas, profile.id).toEqual(
        VIPS.map((vip, i) => [`auto lo:${i + 1}`, `iface lo:${i + 1} inet static`, `address ${vip}`, 'netmask 255.255.255.255']),
      );
    }
  });

  it('netplan parses as YAML and yields lo.addresses = [vip/32, …] (plus version: 2)', () => {
    for (const profile of profilesWith('netplan')) {
      const [file] = vipFiles(profile, 'netplan');
      expect(file!.path).toBe('/etc/netplan/lo-cloud-init.yaml');
      expect(file!.mode).toBe(0o600);
      expect(parseYaml(file!.content), profile.id).toEqual({
        network: { version: 2, ethernets: { lo: { addresses: VIPS.map((v) => `${v}/32`) } } },
      });
    }
  });

  it('documents the guide\'s netplan one-liner bug: its output gives lo no address', () => {
    // What `echo -e "network:\n ethernets:\n lo:\n addresses:\n - $VIP/32"` writes.
    const guideOutput = 'network:\n ethernets:\n lo:\n addresses:\n - 192.0.2.100/32\n';
    const parsed = parseYaml(guideOutput) as { network: Record<string, unknown> };
    expect(parsed.network).toEqual({ ethernets: null, lo: null, addresses: ['192.0.2.100/32'] });
  });

  it('activates with the guide\'s command, after the files are written', () => {
    const activation: Record<string, RegExp> = {
      ifcfg: /^ifup lo:2 \|\|/m,
      'ifcfg-network-scripts': /^ifup lo:2 \|\|/m,
      'interfaces-d': /^ {2}\/etc\/init\.d\/networking restart \|\|/m,
      netplan: /^netplan apply \|\|/m,
      'ip-addr': /ip addr add 192\.0\.2\.101\/32 dev lo label lo:2/,
    };
    for (const profile of OS_PROFILES) {
      for (const { method } of profile.vip) {
        const script = stepOf(renderProcedure(profile, canonicalOptions({ vipMethod: method })), 'vip').script;
        expect(script, `${profile.id} ${method}`).toMatch(activation[method]!);
        if (method === 'interfaces-d') expect(script).toMatch(/else\n {2}systemctl restart networking \|\|/);
      }
    }
  });

  it('leaves DSR ARP settings off unless asked', () => {
    const profile = profileById('debian-12');
    expect(stepOf(renderProcedure(profile, canonicalOptions()), 'vip').script).not.toMatch(/arp_/);
    const vip = stepOf(renderProcedure(profile, canonicalOptions({ dsrArp: true })), 'vip');
    expect(vip.files?.at(-1)).toEqual({
      path: '/etc/sysctl.d/90-toa-lab-dsr-arp.conf',
      content: 'net.ipv4.conf.all.arp_ignore = 1\nnet.ipv4.conf.all.arp_announce = 2\n',
      mode: 0o644,
    });
    expect(vip.script).toMatch(/\nsysctl -p \/etc\/sysctl\.d\/90-toa-lab-dsr-arp\.conf\n$/);
  });
});

describe('UCloud: the cloud-init UserData form', () => {
  let sandbox: Sandbox | undefined;
  afterEach(() => sandbox?.remove());

  it('is the guide\'s bash script: touch, echo -e "…" > file, activation', () => {
    const userData = stepOf(renderProcedure(profileById('centos-7'), canonicalOptions({ vipForm: 'cloud-init', vips: ['192.0.2.100'] })), 'vip');
    expect(userData.interpreter).toBe('/bin/bash');
    expect(userData.script.split('\n').filter((l) => !l.startsWith('# '))).toEqual([
      '#!/bin/bash',
      'touch /etc/sysconfig/network-scripts/ifcfg-lo:1',
      'echo -e "DEVICE=lo:1\\nIPADDR=192.0.2.100\\nNETMASK=255.255.255.255" > /etc/sysconfig/network-scripts/ifcfg-lo:1',
      'ifup lo:1',
      '',
    ]);
    const ubuntu = stepOf(renderProcedure(profileById('ubuntu-16.04'), canonicalOptions({ vipForm: 'cloud-init', vips: ['192.0.2.100'] })), 'vip');
    expect(ubuntu.script.split('\n').filter((l) => !l.startsWith('# '))).toEqual([
      '#!/bin/bash',
      'sudo touch /etc/network/interfaces.d/lo-cloud-init.cfg',
      'sudo echo -e "auto lo:1\\niface lo:1 inet static\\naddress 192.0.2.100\\nnetmask 255.255.255.255" > /etc/network/interfaces.d/lo-cloud-init.cfg',
      'sudo /etc/init.d/networking restart',
      '',
    ]);
    const debian = stepOf(renderProcedure(profileById('debian-10'), canonicalOptions({ vipForm: 'cloud-init' })), 'vip');
    expect(debian.script).not.toMatch(/sudo/);
  });

  it('has no UserData form where the guide has none (SUSE)', () => {
    expect(() => renderProcedure(profileById('suse-11-sp3'), canonicalOptions({ vipForm: 'cloud-init' }))).toThrow(
      /suse-11-sp3: the guide has no cloud-init UserData form for VIP method 'ip-addr'/,
    );
  });

  // Run with real bash, every /etc path moved into a sandbox and the activation commands
  // faked: the UserData must write exactly the files form's files and activate every VIP.
  for (const profile of OS_PROFILES) {
    for (const { method } of profile.vip.filter((v) => vipForms(v.method).includes('cloud-init'))) {
      it(`${profile.id} ${method}: bash writes the same files as the files form and activates them`, () => {
        sandbox = new Sandbox({ sudo: 'exec "$@"', ifup: '', netplan: '', yum: '' });
        const box = sandbox;
        box.executable(join(box.dir, 'etc/init.d/networking'), 'echo "networking $*" >> "$TOA_TEST_DIR/calls.log"');
        const step = stepOf(renderProcedure(profile, canonicalOptions({ vipMethod: method, vipForm: 'cloud-init' })), 'vip');
        const expectedFiles = vipFiles(profile, method);
        for (const file of expectedFiles) box.executable(join(box.dir, file.path, '..', '.keep'), ''); // the guide assumes the directories exist
        const run = box.run(box.relocate(step.script, ['/etc/']), '/bin/bash');
        expect(run.stderr, run.stderr).toBe('');
        expect(run.code).toBe(0);
        for (const file of expectedFiles) expect(readFileSync(join(box.dir, file.path), 'utf8'), file.path).toBe(file.content);
        const activation = {
          ifcfg: ['ifup lo:1', 'ifup lo:2'],
          'ifcfg-network-scripts': ['yum install network-scripts -y', 'ifup lo:1', 'ifup lo:2'],
          'interfaces-d': ['networking restart'],
          netplan: ['netplan apply'],
        }[method as 'ifcfg'];
        expect(run.calls.filter((c) => !c.startsWith('sudo '))).toEqual(activation);
      });
    }
  }
});

describe('UCloud: the files form, run with sh against fake tools', () => {
  let sandbox: Sandbox | undefined;
  afterEach(() => sandbox?.remove());

  const fakeIp = (vips: readonly string[]) =>
    `case "$*" in\n  "-o addr show dev lo") ${vips.map((v, i) => `echo "1: lo    inet ${v}/32 scope global lo:${i + 1}\\\\       valid_lft forever"`).join('; ')} ;;\nesac`;

  for (const profile of OS_PROFILES) {
    for (const { method } of profile.vip) {
      it(`${profile.id} ${method}: writes exactly the declared files with their modes, then checks lo`, () => {
        sandbox = new Sandbox({ ifup: '', netplan: '', rpm: '', dnf: '', yum: '', ip: fakeIp(VIPS) });
        const box = sandbox;
        box.executable(join(box.dir, 'etc/init.d/networking'), 'echo "networking $*" >> "$TOA_TEST_DIR/calls.log"');
        box.executable(join(box.dir, 'etc/network/interfaces'), `source ${box.dir}/etc/network/interfaces.d/*`);
        const step = stepOf(renderProcedure(profile, canonicalOptions({ vipMethod: method })), 'vip');
        const run = box.run(box.relocate(step.script, ['/etc/']));
        expect(run.code, run.stderr).toBe(0);
        expect(run.stdout).toContain('toa-lab: 192.0.2.101 is on lo');
        for (const file of step.files ?? []) {
          expect(readFileSync(join(box.dir, file.path), 'utf8'), file.path).toBe(file.content);
          expect(statSync(join(box.dir, file.path)).mode & 0o777, file.path).toBe(file.mode);
        }
      });
    }
  }

  it('fails with the missing VIP named when lo lacks one', () => {
    sandbox = new Sandbox({ netplan: '', ip: fakeIp(VIPS.slice(0, 1)) });
    const step = stepOf(renderProcedure(profileById('ubuntu-20.04'), canonicalOptions()), 'vip');
    const run = sandbox.run(sandbox.relocate(step.script, ['/etc/']));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('toa-lab: VIP 192.0.2.101 is not on lo');
    const verify = sandbox.run(step.verify!);
    expect([verify.code, verify.stderr]).toEqual([1, expect.stringContaining('VIP 192.0.2.101 is not on lo')]);
  });

  it('refuses an interfaces file that does not source interfaces.d (exit 4)', () => {
    sandbox = new Sandbox({ ip: fakeIp(VIPS) });
    sandbox.executable(join(sandbox.dir, 'etc/network/interfaces'), 'auto lo\niface lo inet loopback');
    const step = stepOf(renderProcedure(profileById('debian-10'), canonicalOptions()), 'vip');
    const run = sandbox.run(sandbox.relocate(step.script, ['/etc/']));
    expect(run.code).toBe(4);
    expect(run.stderr).toContain(`does not source ${sandbox.dir}/etc/network/interfaces.d`);
  });
});

describe('Huawei: TOA build, load and autoload', () => {
  it('writes the guide\'s toa.modules with the module path substituted, and makes it executable', () => {
    const autoload = stepOf(renderProcedure(profileById('centos-7'), canonicalOptions({ toaSourceDir: '/opt/toa' })), 'autoload');
    expect(autoload.files).toEqual([
      {
        path: '/etc/sysconfig/modules/toa.modules',
        content: [
          '#!/bin/sh',
          '/sbin/modinfo -F filename /opt/toa/toa.ko > /dev/null 2>&1',
          'if [ $? -eq 0 ]; then',
          '/sbin/insmod /opt/toa/toa.ko',
          'fi',
          '',
        ].join('\n'),
        mode: 0o755,
      },
    ]);
    expect(autoload.script).toContain('\nchmod +x /etc/sysconfig/modules/toa.modules\n');
  });

  it('uses /lib/modules/$(uname -r)/extra, depmod -a and modules-load.d/toa.conf on systemd rows', () => {
    const autoload = stepOf(renderProcedure(profileById('ubuntu-20.04'), canonicalOptions()), 'autoload');
    expect(autoload.files).toEqual([{ path: '/etc/modules-load.d/toa.conf', content: 'toa\n', mode: 0o644 }]);
    expect(autoload.script).toMatch(/cp \/root\/toa\/toa\.ko "\/lib\/modules\/\$release\/extra\/toa\.ko"\ndepmod -a /);
  });

  it('passes module parameters to insmod and to the boot-time load', () => {
    const options = canonicalOptions({ moduleParams: ['toa_kinds=254,200'] });
    const centos = renderProcedure(profileById('centos-7'), options);
    expect(stepOf(centos, 'toa-load').script).toContain('insmod /root/toa/toa.ko toa_kinds=254,200 ||');
    expect(stepOf(centos, 'autoload').files?.[0]?.content).toContain('/sbin/insmod /root/toa/toa.ko toa_kinds=254,200\n');
    const debian = stepOf(renderProcedure(profileById('debian-12'), options), 'autoload');
    expect(debian.files).toContainEqual({ path: '/etc/modprobe.d/toa.conf', content: 'options toa toa_kinds=254,200\n', mode: 0o644 });
  });

  it('builds with make in the directory holding the Makefile (Huawei: src/) and checks toa.ko', () => {
    const build = stepOf(renderProcedure(profileById('debian-12'), canonicalOptions()), 'toa-build').script;
    expect(build).toContain('elif [ -f "$src/src/Makefile" ]; then\n  build_dir=$src/src');
    expect(build).toContain('make -C "$build_dir"');
    expect(build).toContain('[ -f "$build_dir/toa.ko" ] ||');
  });

  it('checks `dmesg | grep TOA` for a new "TOA: toa loaded"', () => {
    const load = stepOf(renderProcedure(profileById('centos-7'), canonicalOptions()), 'toa-load').script;
    expect(load).toContain('dmesg | grep TOA');
    expect(load).toContain("after=$(dmesg | grep -c 'TOA: toa loaded' || true)");
  });

  it('renders the 2.6.32 patched-kernel procedure for CentOS 6.8, then asks for a reboot', () => {
    const steps = renderProcedure(profileById('centos-6.8'), canonicalOptions());
    const build = stepOf(steps, 'toa-build');
    expect(build.rebootAfter).toBe(true);
    expect(steps.filter((s) => s.rebootAfter).map((s) => s.id)).toEqual(['toa-build']);
    for (const fragment of [
      'tarball=Linux-2.6.32-220.23.1.el6.x86_64.rs.src.tar.gz',
      'http://kb.linuxvirtualserver.org/images/3/34/Linux-2.6.32-220.23.1.el6.x86_64.rs.src.tar.gz',
      '#define TCPOPT_TOA 254',
      "sed -i 's/CONFIG_IPV6=m/CONFIG_IPV6=y/g' .config",
      "printf '\\n# toa\\nCONFIG_TOA=m\\n' >> .config",
      'EXTRAVERSION =\\1-toa',
      'make -j "$jobs"',
      'make modules_install',
      'make install',
      "sed -i 's/^default=[0-9]*$/default=0/'",
      'nohz=off',
    ]) {
      expect(build.script, fragment).toContain(fragment);
    }
    expect(stepOf(steps, 'toa-load').script).toContain('\nmodprobe toa ||');
    expect(stepOf(steps, 'autoload').files?.map((f) => f.path)).toEqual(['/etc/sysconfig/modules/toa.modules', '/etc/cron.d/toa']);
    expect(stepOf(steps, 'toolchain').script).not.toContain('kernel-devel');
  });

  it('turns the LVS toa.h define from 200 into 254 whatever its whitespace, and only that define', () => {
    const build = stepOf(renderProcedure(profileById('centos-6.8'), canonicalOptions()), 'toa-build').script;
    const sed = /^sed -i '([^']+)' net\/toa\/toa\.h$/m.exec(build)![1]!;
    const box = new Sandbox();
    try {
      const header = '#define TCPOPT_TOA\t200\n#define TCPOPT_TOA6 201\n#define TCPOLEN_TOA 8\n';
      box.executable(join(box.dir, 'toa.h'), '');
      const run = box.run(`printf '${header.replaceAll('\t', '\\t')}' > toa.h && sed -e '${sed}' toa.h`);
      expect(run.stdout).toBe('#define TCPOPT_TOA 254\n#define TCPOPT_TOA6 201\n#define TCPOLEN_TOA 8\n');
    } finally {
      box.remove();
    }
  });
});
