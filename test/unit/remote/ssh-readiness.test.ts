import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { backoffMs, SshNotReadyError, waitForSshBanner } from '../../../harness/remote/ssh-readiness.ts';

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

function listen(onConnection: (socket: import('node:net').Socket) => void): Promise<number> {
  server = createServer(onConnection);
  return new Promise((resolve) => server!.listen(0, '127.0.0.1', () => resolve((server!.address() as { port: number }).port)));
}

describe('waiting for sshd', () => {
  it('backs off from 250 ms to 3 s', () => {
    expect([1, 2, 3, 4, 5, 9].map(backoffMs)).toEqual([250, 500, 1000, 2000, 3000, 3000]);
  });

  it('is ready on the SSH banner, not on an accepted connection', async () => {
    let connections = 0;
    const port = await listen((socket) => {
      // Like QEMU's port forward before the guest is up: accept, then hang up.
      if (++connections < 3) socket.destroy();
      else socket.write('SSH-2.0-OpenSSH_9.2p1 Debian\r\n');
    });
    const ready = await waitForSshBanner({ host: '127.0.0.1', port, timeoutMs: 10_000 });
    expect(ready).toEqual({ banner: 'SSH-2.0-OpenSSH_9.2p1 Debian', attempts: 3 });
  });

  it('gives up at the deadline with a reason (a closed port)', async () => {
    const port = await listen(() => {});
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    const error = await waitForSshBanner({ host: '127.0.0.1', port, timeoutMs: 1_500 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SshNotReadyError);
    expect((error as Error).message).toMatch(/no SSH banner from 127\.0\.0\.1:\d+ within 1\.5 s .*ECONNREFUSED/);
  });

  it('stops at once when the VM is gone', async () => {
    const error = await waitForSshBanner({ host: '127.0.0.1', port: 9, timeoutMs: 60_000, givenUp: () => 'QEMU exited' }).catch((e: unknown) => e);
    expect((error as Error).message).toContain('QEMU exited');
  });

  it('says so when something else answers', async () => {
    const port = await listen((socket) => socket.write('HTTP/1.1 400 Bad Request\r\n'));
    const error = await waitForSshBanner({ host: '127.0.0.1', port, timeoutMs: 1_000 }).catch((e: unknown) => e);
    expect((error as Error).message).toContain('not an SSH server');
  });
});
