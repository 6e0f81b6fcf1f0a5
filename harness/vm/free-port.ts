import { createServer } from 'node:net';

/**
 * A TCP port on 127.0.0.1 that nobody listens on right now, for QEMU's SSH
 * port forward. The kernel picks it; there is a short window in which another
 * process could take it, which QEMU then reports ("Could not set up host
 * forwarding rule") and the caller retries with a new port.
 */
export function findFreeLocalPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
