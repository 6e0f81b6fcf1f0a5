import { describe, expect, it } from 'vitest';
import { bpfChoice } from '../../../harness/cli/run-command.ts';
import { UsageError } from '../../../harness/core/usage-error.ts';
import type { DataPathLab } from '../../../harness/lab/data-path-lab.ts';
import { moduleOnly } from '../../../harness/lab/toa-state.ts';
import { attachmentComplete, parseAttachedPrograms, toaBpfUnsupportedReason } from '../../../harness/toa/toa-bpf.ts';
import { describeChoice } from '../../../harness/toa/module-choice.ts';
import { SCENARIOS } from '../../../scenarios/index.ts';

// The TypeScript around eBPF TOA; the programs themselves run in test/e2e/toa-bpf.test.ts.
describe('eBPF TOA: which kernels', () => {
  it('runs from 5.10 on (Debian release strings of every suite the lab boots)', () => {
    for (const release of ['5.10.0-32-amd64', '6.1.0-57-amd64', '6.12.48+deb13-amd64', '7.2.13+deb14-amd64', '7.3-amd64', '10.0-amd64']) {
      expect(toaBpfUnsupportedReason(release), release).toBeUndefined();
    }
  });

  it('older kernels are "not applicable", saying why; an unreadable release is refused with its text', () => {
    expect(toaBpfUnsupportedReason('5.9.16-amd64')).toMatch(/^not applicable to eBPF TOA on Linux 5\.9: .*5\.10/);
    expect(toaBpfUnsupportedReason('4.19.0-27-amd64')).toMatch(/Linux 4\.19/);
    expect(toaBpfUnsupportedReason('2.6.32-754.el6.x86_64')).toMatch(/Linux 2\.6/);
    expect(toaBpfUnsupportedReason('vendor-kernel')).toMatch(/cannot read a version from 'vendor-kernel'/);
  });
});

describe('eBPF TOA: what the loader reports', () => {
  const listing = ['attached sockops id 10 name toa_sockops', 'attached getpeername4 id 11 name toa_getpeername', 'noise', 'attached getpeername6 id 12 name toa_getpeername'].join('\n');

  it('parses the attached programs', () => {
    expect(parseAttachedPrograms(listing)).toEqual([
      { hook: 'sockops', id: 10, name: 'toa_sockops' },
      { hook: 'getpeername4', id: 11, name: 'toa_getpeername' },
      { hook: 'getpeername6', id: 12, name: 'toa_getpeername' },
    ]);
  });

  it('is complete only with the sockops reader and a getpeername rewriter', () => {
    const programs = parseAttachedPrograms(listing);
    expect(attachmentComplete(programs)).toBe(true);
    expect(attachmentComplete(programs.filter((p) => p.hook !== 'sockops'))).toBe(false);
    expect(attachmentComplete(programs.filter((p) => p.hook === 'sockops'))).toBe(false);
    expect(attachmentComplete([])).toBe(false);
  });
});

describe('eBPF TOA: choosing it', () => {
  it("--toa-bpf ours is toa-lab's object; a file is the user's; a missing file is a usage error", () => {
    expect(bpfChoice('ours', undefined, undefined)).toEqual({ origin: 'bpf' });
    const user = bpfChoice(import.meta.filename, undefined, undefined)!;
    expect(user).toEqual({ origin: 'bpf', object: import.meta.filename });
    expect(describeChoice(user)).toMatch(/eBPF TOA object .*no module/);
    expect(() => bpfChoice('/nonexistent/toa.bpf.o')).toThrow(UsageError);
    expect(() => bpfChoice('/nonexistent/toa.bpf.o')).toThrow(/--toa-bpf: no such BPF object/);
  });

  it('excludes the module flags', () => {
    expect(() => bpfChoice('ours', [], ['/x/toa.ko'])).toThrow(/exclude each other/);
    expect(() => bpfChoice('ours', ['/x'])).toThrow(/exclude each other/);
  });

  it('the scenarios about the module itself skip as not applicable to eBPF, and only those', async () => {
    // A guest that has every tool a scenario may ask about (netns-backend asks for veth and nsenter).
    const guest = { run: async () => ({ exitCode: 0, stdout: '', stderr: '' }), check: async () => ({ exitCode: 0, stdout: '', stderr: '' }) };
    const bpfLab = { toaBpf: { loader: '/l', object: '/o', origin: 'ours' }, ownModule: false, moduleKinds: [254], guest } as unknown as DataPathLab;
    // With the PROXY protocol backends a whole OS has, so that only the module's own conditions are tested here.
    const moduleLab = { ownModule: true, moduleKinds: [254], guest, proxyBackends: {} } as unknown as DataPathLab;
    const reasons = async (lab: DataPathLab): Promise<Array<[string, string | undefined]>> =>
      Promise.all(SCENARIOS.map(async (s) => [s.id, await s.notApplicable?.(lab)] as [string, string | undefined]));
    const skipped = (await reasons(bpfLab)).filter(([, why]) => why?.startsWith('not applicable to eBPF')).map(([id]) => id);
    expect(skipped).toEqual(['rmmod-open-connections', 'rmmod-under-load', 'module-lifecycle']);
    expect((await reasons(moduleLab)).filter(([, why]) => why).map(([id]) => id)).toEqual([]);
    expect(moduleOnly('it unloads toa.ko')(bpfLab)).toBe('not applicable to eBPF TOA: it unloads toa.ko');
  });
});
