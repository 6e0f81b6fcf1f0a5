/**
 * The backend's own access log is the verdict's evidence. toa-backend writes
 * one line per connection:
 *   conn peer=198.51.100.7:40001 accept=198.51.100.7:40001 local=192.0.2.10:80
 *        method=GET path=/ status=200 req_bytes=0 req_fnv=... resp_bytes=3 resp_fnv=...
 * (IPv6 addresses in brackets).
 */
export interface BackendLogRecord {
  /** getpeername() right after accept(). */
  peer: Endpoint;
  /** The address accept() itself returned. */
  accept: Endpoint;
  local: Endpoint;
  method: string;
  path: string;
  status: number;
  requestBytes: number;
  requestFnv: string;
  responseBytes: number;
  responseFnv: string;
  raw: string;
}

export interface Endpoint {
  ip: string;
  port: number;
}

export function parseBackendLog(text: string): BackendLogRecord[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('conn '))
    .map(parseBackendLogLine);
}

export function parseBackendLogLine(line: string): BackendLogRecord {
  const fields = new Map<string, string>();
  for (const word of line.trim().split(/\s+/).slice(1)) {
    const eq = word.indexOf('=');
    if (eq > 0) fields.set(word.slice(0, eq), word.slice(eq + 1));
  }
  const get = (key: string): string => {
    const value = fields.get(key);
    if (value === undefined) throw new Error(`backend log line has no ${key}=: ${line}`);
    return value;
  };
  return {
    peer: parseEndpoint(get('peer')),
    accept: parseEndpoint(get('accept')),
    local: parseEndpoint(get('local')),
    method: get('method'),
    path: get('path'),
    status: Number(get('status')),
    requestBytes: Number(get('req_bytes')),
    requestFnv: get('req_fnv'),
    responseBytes: Number(get('resp_bytes')),
    responseFnv: get('resp_fnv'),
    raw: line,
  };
}

/** "1.2.3.4:80" or "[2001:db8::1]:80"; "-" (the call failed in the guest) reads as ip "-", port 0. */
export function parseEndpoint(text: string): Endpoint {
  if (text === '-') return { ip: '-', port: 0 };
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(text);
  if (!match) throw new Error(`not an ip:port endpoint: ${text}`);
  return { ip: (match[1] ?? match[2])!, port: Number(match[3]) };
}

export function formatEndpoint(endpoint: Endpoint): string {
  return endpoint.ip.includes(':') ? `[${endpoint.ip}]:${endpoint.port}` : `${endpoint.ip}:${endpoint.port}`;
}
