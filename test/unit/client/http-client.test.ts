import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { httpRequest } from '../../../harness/client/http-client.ts';

// A real loopback server that writes raw bytes, so the response's framing is exactly what the test says.
let server: Server | undefined;

async function serveOnce(raw: string): Promise<number> {
  server = createServer((socket) => {
    socket.once('data', () => socket.end(raw));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

describe('httpRequest', () => {
  it('returns status, headers and the body when the body is as long as Content-Length says', async () => {
    const port = await serveOnce('HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello');
    const response = await httpRequest({ port });
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe('hello');
  });

  it('fails a response the server closed before Content-Length bytes (not a shorter 200)', async () => {
    const port = await serveOnce('HTTP/1.0 200 OK\r\nContent-Length: 1048576\r\n\r\npartial');
    await expect(httpRequest({ port })).rejects.toThrow('HTTP 200: the response ended after 7 of 1048576 body bytes (the server closed early)');
  });

  it('takes the body up to the close when there is no Content-Length', async () => {
    const port = await serveOnce('HTTP/1.0 200 OK\r\n\r\nuntil close');
    expect((await httpRequest({ port })).body.toString()).toBe('until close');
  });
});
