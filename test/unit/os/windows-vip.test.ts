import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderWindowsVip } from '../../../harness/os/windows/windows-vip.ts';

const SEED = join(import.meta.dirname, '..', '..', '..', '..', 'shared', 'seeds', 'ucloud-clb-message-forwarding-mode-service-node.txt');

describe("the UCloud guide's Windows section, rendered (not run here: no Windows image on this machine)", () => {
  const script = renderWindowsVip({ vips: ['192.0.2.100'], localInterface: 'Ethernet' });
  const lines = script.split('\r\n');

  it("carries the guide's four netsh lines verbatim, for $LOCAL and $LO", () => {
    const guide = readFileSync(SEED, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l.startsWith('netsh interface ipv4 set interface'));
    expect(guide).toHaveLength(4);
    for (const line of guide) expect(lines).toContain(line);
    expect(lines).toContain("$LOCAL = 'Ethernet'");
    expect(lines).toContain("$LO = 'lo'");
  });

  it('adds the KM-TEST loopback adapter (the guide\'s note for Windows 8 / Server 2012 on) and puts each VIP on it as /32', () => {
    expect(script).toContain("Get-NetAdapter -InterfaceDescription 'Microsoft KM-TEST Loopback Adapter*'");
    expect(script).toContain('netloop.inf');
    expect(script).toMatch(/New-NetIPAddress -InterfaceAlias \$LO -IPAddress '192\.0\.2\.100' -PrefixLength 32/);
  });

  it('is well-formed as far as can be checked without PowerShell: balanced braces, quotes and CRLF lines', () => {
    expect(script.includes('\n') && !/[^\r]\n/.test(script)).toBe(true);
    expect([...script].filter((c) => c === '{').length).toBe([...script].filter((c) => c === '}').length);
    for (const line of lines.filter((l) => !l.startsWith('#'))) expect((line.match(/'/g) ?? []).length % 2, line).toBe(0);
  });

  it('refuses what would break the script', () => {
    expect(() => renderWindowsVip({ vips: ['not-an-ip'], localInterface: 'Ethernet' })).toThrow(/dotted-quad/);
    expect(() => renderWindowsVip({ vips: ['192.0.2.1'], localInterface: "Eth'; rm" })).toThrow(/characters/);
    expect(() => renderWindowsVip({ vips: [], localInterface: 'Ethernet' })).toThrow(/at least one VIP/);
  });
});
