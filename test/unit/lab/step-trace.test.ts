import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { slowestLines, stepCommand, tracedLines, untraced } from '../../../harness/lab/step-trace.ts';
import { LocalShell } from '../../helpers/local-shell.ts';

describe("a guide step's time, line by line", () => {
  const script = join(mkdtempSync(join(tmpdir(), 'trace-')), 'step.sh');
  writeFileSync(script, ['echo building', 'sleep 0.4', 'echo "toa-lab: built" >&2', 'exit 3', ''].join('\n'));

  it('untraced: the step as it always ran', () => {
    expect(stepCommand('/bin/sh', '/x/step.sh', false)).toBe('/bin/sh /x/step.sh');
  });

  it("traced by this machine's bash: each line's time, the script's output and exit code kept", async () => {
    const result = await new LocalShell().run(stepCommand('/bin/sh', script, true));
    expect(result.exitCode).toBe(3);
    expect(result.stdout).toBe('building\n');
    expect(untraced(result.stderr).trim()).toBe('toa-lab: built');
    const lines = tracedLines(result.stderr);
    expect(lines.map((l) => l.command)).toEqual([`. ${script}`, 'echo building', 'sleep 0.4', "echo 'toa-lab: built'", 'exit 3', '(end of script)']);
    const [slowest] = slowestLines(result.stderr, 1);
    expect(slowest!.command).toBe('sleep 0.4');
    expect(slowest!.seconds).toBeGreaterThanOrEqual(0.39);
  });

  it('reads nested lines and ignores the rest', () => {
    const stderr = ['+toa-lab-trace 10.000000 make -C /lib/modules/6.1/build', 'make: Entering directory', '++toa-lab-trace 12.500000 uname -r', '+toa-lab-trace 13.000000 (end of script)'].join('\n');
    expect(tracedLines(stderr)).toEqual([
      { command: 'make -C /lib/modules/6.1/build', seconds: 2.5 },
      { command: 'uname -r', seconds: 0.5 },
      { command: '(end of script)', seconds: 0 },
    ]);
  });
});
