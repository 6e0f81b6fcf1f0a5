import { connect, type Socket } from 'node:net';

/**
 * A raw HTTP/1.0-style client over a TCP socket to the balancer on 127.0.0.1.
 * Raw rather than node:http because the lab needs control node:http hides:
 * sending only part of a request and holding the connection open (rmmod under
 * open connections), and reading exactly what came back, byte for byte.
 */
export interface HttpExchange {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  durationMs: number;
}

export interface HttpRequest {
  port: number;
  host?: string;
  method?: string;
  path?: string;
  body?: Buffer;
  timeoutMs?: number;
  /** Send the whole request and our FIN in one write: the balancer's first data segment may then carry FIN. */
  finWithRequest?: boolean | undefined;
}

export function httpRequest(request: HttpRequest): Promise<HttpExchange> {
  return openHttpRequest(request).then((open) => open.finish());
}

/**
 * An HTTP request whose headers are sent but whose body (even an empty one) is
 * held back until finish(): the connection stays open in between.
 */
export interface OpenHttpRequest {
  socket: Socket;
  finish(): Promise<HttpExchange>;
}

export async function openHttpRequest(request: HttpRequest): Promise<OpenHttpRequest> {
  const started = Date.now();
  const body = request.body ?? Buffer.alloc(0);
  const method = request.method ?? (body.length ? 'POST' : 'GET');
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = connect({ port: request.port, host: request.host ?? '127.0.0.1' }, () => resolve(s));
    s.once('error', reject);
  });
  const chunks: Buffer[] = [];
  const response = new Promise<Buffer>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`HTTP ${method} ${request.path ?? '/'}: no complete response within ${request.timeoutMs ?? 60_000} ms`));
    }, request.timeoutMs ?? 60_000);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
  });
  response.catch(() => {}); // observed in finish()
  const head =
    `${method} ${request.path ?? '/'} HTTP/1.0\r\nHost: lab\r\nConnection: close\r\n` +
    (method === 'POST' || body.length ? `Content-Length: ${body.length}\r\n` : '') +
    '\r\n';
  if (request.finWithRequest) {
    socket.end(Buffer.concat([Buffer.from(head), body]));
  } else {
    socket.write(head);
  }
  return {
    socket,
    async finish() {
      if (!request.finWithRequest) socket.end(body);
      return { ...parseResponse(await response), durationMs: Date.now() - started };
    },
  };
}

function parseResponse(raw: Buffer): Omit<HttpExchange, 'durationMs'> {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) throw new Error(`not an HTTP response (${raw.length} bytes): ${raw.subarray(0, 80).toString('latin1')}`);
  const [statusLine = '', ...headerLines] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
  if (!status) throw new Error(`bad HTTP status line: ${statusLine}`);
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const body = raw.subarray(end + 4);
  // The server closing early must not pass for a complete (if shorter) response.
  const declared = headers['content-length'];
  if (declared !== undefined && Number(declared) !== body.length) {
    throw new Error(`HTTP ${status}: the response ended after ${body.length} of ${declared} body bytes (the server closed early)`);
  }
  return { status, headers, body };
}
