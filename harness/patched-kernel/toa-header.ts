import { quoteLine, UnexpectedFileError, unchanged, type FileEdit } from './file-edit.ts';

/**
 * Guide step 3.2: in net/toa/toa.h, "Change the value of #define TCPOPT_TOA200 to
 * #define TCPOPT_TOA254" — the guide's formatting lost the space; the line is
 * `#define TCPOPT_TOA 200`. The whole line becomes `#define TCPOPT_TOA <kind>`, as
 * the CentOS 6.8 script in harness/os/steps/toa-build.ts does with sed (and
 * checks with `grep '^#define TCPOPT_TOA 254$'`).
 */
export const TOA_HEADER = 'net/toa/toa.h';

const DEFINE = /^[ \t]*#[ \t]*define[ \t]+TCPOPT_TOA(?:[ \t]|$).*$/gm;
const GLUED = /^[ \t]*#[ \t]*define[ \t]+TCPOPT_TOA\d+/m;

export function setToaOptionKind(header: string, kind: number): FileEdit {
  if (!Number.isInteger(kind) || kind < 2 || kind > 255) {
    throw new RangeError(`TCP option kind ${kind} is not usable (2..255; 0 and 1 are EOL and NOP)`);
  }
  const lines = header.match(DEFINE) ?? [];
  if (lines.length === 0) {
    const glued = GLUED.exec(header)?.[0];
    throw new UnexpectedFileError(
      TOA_HEADER,
      'one `#define TCPOPT_TOA <kind>` line',
      glued ? `${quoteLine(glued)} (kind glued to the name, as in the guide's text: not a kernel header)` : 'no such line',
    );
  }
  if (lines.length > 1) {
    throw new UnexpectedFileError(TOA_HEADER, 'one `#define TCPOPT_TOA <kind>` line', `${lines.length}: ${lines.map(quoteLine).join(', ')}`);
  }
  const line = lines[0]!;
  const value = /TCPOPT_TOA[ \t]+(\d+)\b/.exec(line)?.[1];
  if (value === undefined) {
    throw new UnexpectedFileError(TOA_HEADER, '`#define TCPOPT_TOA` with a decimal kind', quoteLine(line));
  }
  const wanted = `#define TCPOPT_TOA ${kind}`;
  if (line === wanted) return unchanged(header, `TCPOPT_TOA already ${kind}`);
  return {
    content: header.replace(line, wanted),
    changed: true,
    summary: `TCPOPT_TOA ${value} -> ${kind}`,
  };
}

/** The kind net/toa/toa.h defines (for evidence after the edit). */
export function toaOptionKindOf(header: string): number | null {
  const match = /^[ \t]*#[ \t]*define[ \t]+TCPOPT_TOA[ \t]+(\d+)\b/m.exec(header);
  return match ? Number(match[1]) : null;
}
