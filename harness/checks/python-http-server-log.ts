/**
 * The access log of the guides' backend, `python3 -m http.server` (Python 2's
 * SimpleHTTPServer writes the same): one line per request on stderr,
 *   198.51.100.7 - - [06/Aug/2020 14:24:21] "GET / HTTP/1.1" 200 -
 * The first field is the client address accept() returned: with TOA loaded,
 * the client from the option; without it, the balancer's own address.
 * Other stderr lines (tracebacks, "Serving HTTP on ...") are skipped.
 */
export interface AccessLogRecord {
  clientIp: string;
  method: string;
  path: string;
  status: number;
  raw: string;
}

// The request line is quoted as sent; a malformed one may hold anything but a bare quote.
const LINE = /^(\S+) - - \[[^\]]*\] "(\S+) (\S+)(?: [^"]*)?" (\d{3}) \S+\s*$/;

export function parsePythonHttpServerLog(text: string): AccessLogRecord[] {
  const records: AccessLogRecord[] = [];
  for (const line of text.split('\n')) {
    const match = LINE.exec(line);
    if (!match) continue;
    records.push({ clientIp: match[1]!, method: match[2]!, path: match[3]!, status: Number(match[4]), raw: line });
  }
  return records;
}
