import { describe, expect, it } from 'vitest';
import { currentOwner, decodeOwner, encodeOwner } from '../../../harness/vm/vagrant/domain-reaper.ts';
import { assertLoopbackOnly, parseVagrantSshConfig } from '../../../harness/vm/vagrant/ssh-config.ts';
import { vagrantError } from '../../../harness/vm/vagrant/vagrant-vm.ts';

/** As `vagrant ssh-config` 2.3.4 printed it for a toa-lab guest. */
const SSH_CONFIG = `Host s-10276-74df38-vagrant-2
  HostName 127.0.0.1
  User root
  Port 43735
  UserKnownHostsFile /dev/null
  StrictHostKeyChecking no
  PasswordAuthentication no
  IdentityFile /tmp/toa-lab/s-10276-74df38/ssh-1/id_ed25519
  IdentitiesOnly yes
  LogLevel FATAL
  PubkeyAcceptedKeyTypes +ssh-rsa
  HostKeyAlgorithms +ssh-rsa

`;

describe('vagrant ssh-config', () => {
  it('parses host, port, user and key', () => {
    expect(parseVagrantSshConfig(SSH_CONFIG)).toEqual({
      alias: 's-10276-74df38-vagrant-2',
      hostName: '127.0.0.1',
      port: 43735,
      user: 'root',
      identityFiles: ['/tmp/toa-lab/s-10276-74df38/ssh-1/id_ed25519'],
    });
  });

  it('accepts only the loopback forward the lab set up', () => {
    const config = parseVagrantSshConfig(SSH_CONFIG);
    expect(() => assertLoopbackOnly(config, 43735)).not.toThrow();
    expect(() => assertLoopbackOnly(config, 2222)).toThrow(/port 43735/);
    expect(() => assertLoopbackOnly({ ...config, hostName: '192.168.121.17' }, 43735)).toThrow(/127\.0\.0\.1 only/);
  });

  it('refuses output for several machines, or without a port', () => {
    expect(() => parseVagrantSshConfig(`${SSH_CONFIG}Host other\n  HostName 127.0.0.1\n`)).toThrow(/more than one/);
    expect(() => parseVagrantSshConfig('Host a\n  HostName 127.0.0.1\n  User root\n')).toThrow(/no Port/);
  });
});

describe('libvirt domain owner record', () => {
  it('round-trips through the domain description', () => {
    const owner = currentOwner('/tmp/toa-lab/s-1-abc');
    expect(owner.pid).toBe(process.pid);
    expect(decodeOwner(encodeOwner(owner))).toEqual(owner);
  });

  it('ignores descriptions that are not toa-lab owner records (never reaps a stranger)', () => {
    expect(decodeOwner('')).toBeNull();
    expect(decodeOwner('my test VM')).toBeNull();
    expect(decodeOwner('{"pid":1}')).toBeNull();
  });
});

describe('vagrant error text', () => {
  it('keeps the message, drops progress bars and Ruby backtrace frames', () => {
    const stderr = [
      "/usr/lib/ruby/vendor_ruby/fog/libvirt/requests/compute/vm_action.rb:7:in `create': Call to virDomainCreateWithFlags failed (Libvirt::Error)",
      "\tfrom /usr/share/rubygems-integration/all/gems/vagrant-2.3.4/lib/vagrant/action/warden.rb:48:in `call'",
      '\x1b[KProgress: 0%',
    ].join('\n');
    expect(vagrantError(stderr)).toBe(
      "/usr/lib/ruby/vendor_ruby/fog/libvirt/requests/compute/vm_action.rb:7:in `create': Call to virDomainCreateWithFlags failed (Libvirt::Error)",
    );
  });
});
