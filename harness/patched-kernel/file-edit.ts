/**
 * The shape of every edit the patched-kernel procedure makes to a file: the
 * new content, whether anything changed, and one line for the step's report.
 * An edit is a pure function of the file's text; a file that does not look
 * as expected is refused whole with UnexpectedFileError (never a partial edit).
 */
export interface FileEdit {
  content: string;
  changed: boolean;
  /** What was done, or why nothing was ("already y"). */
  summary: string;
}

export class UnexpectedFileError extends Error {
  override readonly name = 'UnexpectedFileError';
  constructor(
    readonly file: string,
    readonly expected: string,
    readonly found: string,
  ) {
    super(`${file}: expected ${expected}; found ${found}. Nothing was changed.`);
  }
}

/** Several edits of one file in a row, as one FileEdit. */
export function chainEdits(content: string, edits: ReadonlyArray<(text: string) => FileEdit>): FileEdit {
  const summaries: string[] = [];
  let changed = false;
  let text = content;
  for (const edit of edits) {
    const result = edit(text);
    text = result.content;
    changed ||= result.changed;
    summaries.push(result.summary);
  }
  return { content: text, changed, summary: summaries.join('; ') };
}

export function unchanged(content: string, summary: string): FileEdit {
  return { content, changed: false, summary };
}

/** Shows a line for an error message: quoted, shortened. */
export function quoteLine(line: string): string {
  return JSON.stringify(line.length > 120 ? `${line.slice(0, 117)}...` : line);
}
