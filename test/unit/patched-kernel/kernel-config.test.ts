import { describe, expect, it } from 'vitest';
import { applyGuideConfig, configValue, enableIpv6BuiltIn, enableToaModule } from '../../../harness/patched-kernel/kernel-config.ts';

/** Excerpts of real .config files: RHEL 6 (IPv6 as a module) and a 6.1 defconfig (built in). */
const RHEL6 = [
  '#',
  '# Automatically generated make config: don\'t edit',
  '# Linux kernel version: 2.6.32-220.23.1.el6.x86_64',
  '#',
  'CONFIG_64BIT=y',
  'CONFIG_INET=y',
  'CONFIG_IPV6=m',
  'CONFIG_IPV6_PRIVACY=y',
  'CONFIG_KPROBES=y',
  '',
].join('\n');
const DEFCONFIG_61 = ['CONFIG_INET=y', 'CONFIG_IPV6=y', 'CONFIG_KPROBES=y', '# CONFIG_TOA is not set', 'CONFIG_NETFILTER=y', ''].join('\n');

describe('.config edits (guide step 3.3)', () => {
  it('RHEL 6: IPv6 m -> y, CONFIG_TOA=m appended as the guide echoes it', () => {
    const edit = applyGuideConfig(RHEL6);
    expect(edit.changed).toBe(true);
    expect(edit.summary).toBe('CONFIG_IPV6 m -> y; appended CONFIG_TOA=m');
    expect(edit.content).toBe(RHEL6.replace('CONFIG_IPV6=m', 'CONFIG_IPV6=y') + '\n# toa\nCONFIG_TOA=m\n');
    expect(configValue(edit.content, 'TOA')).toEqual({ state: 'set', value: 'm' });
  });

  it('IPv6 already built in: reported "already y", nothing else touched', () => {
    const edit = enableIpv6BuiltIn(DEFCONFIG_61);
    expect(edit).toEqual({ content: DEFCONFIG_61, changed: false, summary: 'CONFIG_IPV6 already y' });
  });

  it('`# CONFIG_TOA is not set` is rewritten in place, not contradicted by a second line', () => {
    const edit = enableToaModule(DEFCONFIG_61);
    expect(edit.summary).toBe('# CONFIG_TOA is not set -> CONFIG_TOA=m (in place)');
    expect(edit.content.match(/CONFIG_TOA/g)).toHaveLength(1);
    expect(configValue(edit.content, 'TOA')).toEqual({ state: 'set', value: 'm' });
  });

  it('is idempotent: the step run twice changes nothing the second time', () => {
    for (const config of [RHEL6, DEFCONFIG_61]) {
      const once = applyGuideConfig(config);
      const twice = applyGuideConfig(once.content);
      expect(twice.changed).toBe(false);
      expect(twice.content).toBe(once.content);
      expect(twice.summary).toBe('CONFIG_IPV6 already y; CONFIG_TOA already m');
    }
  });

  it('a file without a trailing newline still gets CONFIG_TOA on its own line', () => {
    expect(enableToaModule('CONFIG_IPV6=y').content).toBe('CONFIG_IPV6=y\n\n# toa\nCONFIG_TOA=m\n');
  });

  it('refuses what it cannot edit safely, changing nothing', () => {
    expect(() => applyGuideConfig('# CONFIG_IPV6 is not set\nCONFIG_INET=y\n')).toThrow(/expected CONFIG_IPV6=m \(or =y\); found # CONFIG_IPV6 is not set/);
    expect(() => applyGuideConfig('CONFIG_INET=y\n')).toThrow(/no CONFIG_IPV6 line/);
    expect(() => applyGuideConfig('obj-y += foo.o\n')).toThrow(/a kernel configuration/);
    expect(() => enableToaModule('CONFIG_TOA=m\nCONFIG_TOA=y\n')).toThrow(/at most one CONFIG_TOA line/);
    expect(() => enableIpv6BuiltIn('CONFIG_IPV6=m\nCONFIG_IPV6=y\n')).toThrow(/one CONFIG_IPV6 line/);
  });

  it('reads values the way kconfig does (the last assignment wins)', () => {
    expect(configValue('CONFIG_A=m\nCONFIG_A=y\n', 'A')).toEqual({ state: 'set', value: 'y' });
    expect(configValue('# CONFIG_A is not set\n', 'A')).toEqual({ state: 'not set' });
    expect(configValue('CONFIG_AB=y\n', 'A')).toEqual({ state: 'absent' });
  });
});
