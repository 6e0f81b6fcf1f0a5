import type { StepResult } from '../core/step.ts';

/** The steps as a Markdown table: name, status, duration, summary. */
export function formatStepTable(steps: readonly StepResult[]): string {
  const rows = steps.map((s) => `| ${s.name} | ${s.status} | ${formatDuration(s.durationMs)} | ${s.summary.replaceAll('|', '\\|').replaceAll('\n', ' ')} |`);
  return ['| step | status | duration | summary |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const seconds = ms / 1000;
  return seconds < 120 ? `${seconds.toFixed(1)} s` : `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}
