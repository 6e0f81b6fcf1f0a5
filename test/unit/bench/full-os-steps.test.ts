import { describe, expect, it } from 'vitest';
import { describeFullOs } from '../../../bench/full-os-steps.ts';
import type { CommandResult } from '../../../harness/exec/command-result.ts';

const command = (text: string, ms: number): CommandResult => ({ command: text, exitCode: 0, signal: null, stdout: '', stderr: '', timedOut: false, durationMs: ms });

describe('a whole OS cell, step by step', () => {
  it('lists every step with its kind, the slowest steps\' slowest commands, and the scenarios', () => {
    const lines = describeFullOs({
      image: 'debian-12',
      wallSeconds: 200,
      passed: true,
      outcomes: [
        {
          scenario: 'guide-procedure',
          title: '',
          checks: [],
          durationMs: 90_000,
          steps: [
            { name: 'make', kind: 'build', status: 'passed', durationMs: 50_000, summary: 'toa.ko built', commands: [command('make -C /lib/modules/6.1/build M=/root/toa', 48_000), command('ls', 100)] },
            { name: 'autoload', kind: 'autoload', status: 'passed', durationMs: 25_000, summary: '', commands: [command('update-initramfs -u', 20_000)] },
          ],
        },
        { scenario: 'load', title: '', checks: [], durationMs: 26_700 },
      ],
    });
    expect(lines[0]).toBe('whole OS debian-12: cell 200.0 s');
    expect(lines.find((l) => l.includes('step make [build, guide-procedure]'))).toMatch(/50\.0 s passed$/);
    // Untraced: the step's summary stands for its reason.
    expect(lines[lines.findIndex((l) => l.includes('step make [build'))! + 1]).toBe('    toa.ko built');
    expect(lines.find((l) => l.startsWith('  scenario load'))).toMatch(/26\.7 s$/);
  });

  it("names a traced step's slowest script lines", () => {
    const traced = command('bash -c ...', 3_000);
    traced.stderr = ['+toa-lab-trace 10.0 make -C /lib/modules/6.1.0-57-amd64/build M=/root/toa modules', '+toa-lab-trace 12.5 depmod -a', '+toa-lab-trace 12.75 (end of script)'].join('\n');
    const lines = describeFullOs({
      image: 'debian-12',
      wallSeconds: 10,
      passed: true,
      outcomes: [{ scenario: 'guide-procedure', title: '', checks: [], durationMs: 6_000, steps: [{ name: 'make', kind: 'build', status: 'passed', durationMs: 6_000, summary: '', commands: [traced] }] }],
    });
    expect(lines).toContain('    slowest lines: 2.5 s `make -C /lib/modules/6.1.0-57-amd64/build M=/root/toa modules`; 0.3 s `depmod -a`; 0.0 s `(end of script)`');
  });
});
