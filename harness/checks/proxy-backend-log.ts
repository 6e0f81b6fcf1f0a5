/**
 * The logs of the PROXY protocol backends (harness/guest/proxy-backends.ts), the verdict's
 * evidence. Both nginx and HAProxy are configured to write one `key=value` line per request,
 * in the same shape, so one parser reads both:
 *
 *   toa-lab-proxy backend=nginx remote=198.51.100.7 remote_port=40001 proxy=198.51.100.7
 *     proxy_port=40001 peer=192.0.2.2 status=200 uri=/?conn=3
 *   toa-lab-proxy backend=haproxy remote=198.51.100.7 remote_port=40001 status=200 uri=/?conn=3
 *     authority=toa-lab.example unique_id=746f612d6c61622d33
 *
 * `remote` is the address the backend believes (what an application would log); `proxy` is what
 * the header claimed and `peer` the connection's real source, where the backend tells them apart
 * (nginx: $proxy_protocol_addr, $realip_remote_addr). A field the backend had no value for is `-`.
 *
 * A refused header leaves no request line — there is no request — but the backend says why:
 * HAProxy in its connection-error line (`toa-lab-proxy-error`), nginx in its error log
 * ("broken header: … while reading PROXY protocol"). Those are `ProxyRefusal`s.
 */
export type ProxyBackendKind = 'nginx' | 'haproxy';

export interface ProxyRequestLine {
  backend: ProxyBackendKind;
  /** The client address the backend believes. */
  remote: string;
  remotePort: number | undefined;
  /** What the header claimed (nginx only; undefined without a header or when not logged). */
  proxy: string | undefined;
  /** The connection's real source (nginx only). */
  peer: string | undefined;
  status: number;
  uri: string;
  /** v2 TLVs HAProxy read: PP2_TYPE_AUTHORITY as text, PP2_TYPE_UNIQUE_ID as hex. */
  authority: string | undefined;
  uniqueIdHex: string | undefined;
  /** The `conn=N` tag of the request, if it has one. */
  tag: number | undefined;
  raw: string;
}

export interface ProxyRefusal {
  backend: ProxyBackendKind;
  /** The backend's own words (HAProxy's fc_err_str, nginx's error message). */
  reason: string;
  raw: string;
}

export interface ProxyBackendLog {
  requests: ProxyRequestLine[];
  refusals: ProxyRefusal[];
}

const REQUEST_PREFIX = 'toa-lab-proxy ';
const ERROR_PREFIX = 'toa-lab-proxy-error ';

/** Request lines and HAProxy's connection-error lines from one log (other lines are ignored). */
export function parseProxyBackendLog(text: string): ProxyBackendLog {
  const requests: ProxyRequestLine[] = [];
  const refusals: ProxyRefusal[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith(ERROR_PREFIX)) {
      const fields = keyValues(line.slice(ERROR_PREFIX.length));
      refusals.push({ backend: backendOf(fields, line), reason: unquote(fields.get('error') ?? '-'), raw: line });
    } else if (line.startsWith(REQUEST_PREFIX)) {
      requests.push(requestLine(line));
    }
  }
  return { requests, refusals };
}

/**
 * nginx's error-log lines about the PROXY protocol: every line nginx writes while reading a
 * header ("broken header: …", "… while reading PROXY protocol"). nginx gives the reason after
 * the connection number: `2026/12/03 18:00:00 [error] 123#123: *45 broken header: "…" while
 * reading PROXY protocol, client: 192.0.2.2, server: 0.0.0.0:8081`.
 */
export function parseNginxProxyErrors(text: string): ProxyRefusal[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.includes('PROXY protocol') || line.includes('broken header'))
    .map((raw) => ({ backend: 'nginx' as const, reason: /\*\d+ (.*?)(, client: |$)/.exec(raw)?.[1] ?? raw, raw }));
}

function requestLine(line: string): ProxyRequestLine {
  const fields = keyValues(line.slice(REQUEST_PREFIX.length));
  const need = (key: string): string => {
    const value = fields.get(key);
    if (value === undefined) throw new Error(`PROXY backend log line has no ${key}=: ${line}`);
    return value;
  };
  const optional = (key: string): string | undefined => {
    const value = fields.get(key);
    return value === undefined || value === '-' || value === '' ? undefined : value;
  };
  const uri = need('uri');
  const port = optional('remote_port');
  const tag = /[?&]conn=(\d+)/.exec(uri)?.[1];
  return {
    backend: backendOf(fields, line),
    remote: need('remote'),
    remotePort: port === undefined ? undefined : Number(port),
    proxy: optional('proxy'),
    peer: optional('peer'),
    status: Number(need('status')),
    uri,
    authority: optional('authority'),
    uniqueIdHex: optional('unique_id')?.toLowerCase(),
    tag: tag === undefined ? undefined : Number(tag),
    raw: line,
  };
}

function backendOf(fields: Map<string, string>, line: string): ProxyBackendKind {
  const backend = fields.get('backend');
  if (backend !== 'nginx' && backend !== 'haproxy') throw new Error(`PROXY backend log line names no known backend: ${line}`);
  return backend;
}

/** `key=value` words; a value in double quotes may hold spaces (HAProxy's quoted error string). */
function keyValues(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const match of text.matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|\S*)/g)) fields.set(match[1]!, match[2]!);
  return fields;
}

function unquote(value: string): string {
  return value.startsWith('"') && value.endsWith('"') && value.length >= 2 ? value.slice(1, -1) : value;
}

/**
 * One counter of one HAProxy proxy from `show stat` (CSV; the first line, starting `# `, names
 * the columns): e.g. `dcon`, the connections `tcp-request connection` rules denied. Undefined
 * when the proxy, its FRONTEND row or the column is not there.
 */
export function haproxyFrontendCounter(showStat: string, proxy: string, column: string): number | undefined {
  const lines = showStat.split('\n').map((line) => line.trim());
  const header = lines.find((line) => line.startsWith('# '))?.slice(2).split(',');
  const at = header?.indexOf(column) ?? -1;
  if (at < 0) return undefined;
  const row = lines.map((line) => line.split(',')).find((cells) => cells[0] === proxy && cells[1] === 'FRONTEND');
  const value = row?.[at];
  return value === undefined || value === '' ? undefined : Number(value);
}
