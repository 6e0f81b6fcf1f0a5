import type { ScenarioOutcome } from '../core/scenario.ts';
import { scenarioPassed } from '../core/scenario.ts';

/**
 * TAP 13, streamed: one test point per scenario, its checks as YAML
 * diagnostics, so a person reading stdout sees why, and any TAP consumer can
 * count.
 */
export class TapWriter {
  private count = 0;

  constructor(private readonly write: (text: string) => void) {
    write('TAP version 13\n');
  }

  comment(text: string): void {
    for (const line of text.split('\n')) this.write(`# ${line}\n`);
  }

  outcome(cell: string, outcome: ScenarioOutcome): void {
    const ok = scenarioPassed(outcome);
    const skip = outcome.skipped !== undefined ? ` # SKIP ${outcome.skipped}` : '';
    this.write(`${ok ? 'ok' : 'not ok'} ${++this.count} - ${cell} ${outcome.scenario}: ${outcome.title}${skip}\n`);
    const lines = [`duration_ms: ${outcome.durationMs}`];
    if (outcome.error) lines.push(`error: ${yamlString(outcome.error)}`);
    if (outcome.checks.length) lines.push('checks:');
    for (const c of outcome.checks) {
      lines.push(`  - name: ${yamlString(c.name)}`, `    passed: ${c.passed}`);
      if (c.informational) lines.push('    informational: true');
      lines.push(`    expected: ${yamlString(c.expected)}`, `    observed: ${yamlString(c.observed)}`);
    }
    this.write(`  ---\n${lines.map((l) => `  ${l}`).join('\n')}\n  ...\n`);
  }

  /** The plan goes last: the number of scenarios is known only at the end of a streamed run. */
  end(): void {
    this.write(`1..${this.count}\n`);
  }
}

function yamlString(text: string): string {
  return JSON.stringify(text);
}
