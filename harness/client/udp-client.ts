import { createSocket } from 'node:dgram';

/**
 * Sends each message from one UDP socket to 127.0.0.1:port and collects the
 * replies in order: one simulated UDP client session through the balancer.
 */
export async function udpExchange(port: number, messages: readonly string[], timeoutMs = 15_000): Promise<string[]> {
  const socket = createSocket('udp4');
  try {
    return await new Promise<string[]>((resolve, reject) => {
      const received: string[] = [];
      const timer = setTimeout(() => reject(new Error(`UDP: ${received.length} of ${messages.length} replies within ${timeoutMs} ms`)), timeoutMs);
      socket.on('message', (data) => {
        received.push(data.toString());
        if (received.length === messages.length) {
          clearTimeout(timer);
          resolve(received);
        }
      });
      socket.on('error', reject);
      for (const message of messages) socket.send(message, port, '127.0.0.1');
    });
  } finally {
    socket.close();
  }
}
