import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Server } from 'ssh2';
import { afterEach, describe, expect, it } from 'vitest';
import { CommandLog } from '../../../harness/remote/command-log.ts';
import { HostKeyPin } from '../../../harness/remote/host-key-pin.ts';
import { SshGuestShell, SshLoginRefusedError } from '../../../harness/remote/ssh-guest-shell.ts';
import { SshNotReadyError } from '../../../harness/remote/ssh-readiness.ts';
import { generateSshKeyPair } from '../../../harness/remote/ssh-key-pair.ts';

/**
 * A real SSH server (ssh2's, on 127.0.0.1) that refuses every public key, as a
 * guest's sshd does when the image never created the seed's user: the login
 * gives up after the grace with the advice, not at the boot deadline; without
 * a grace, at the deadline as before. (The real guest: test/e2e-full/foreign-login-config-row, `npm run test:full`.)
 */
const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

async function refusingServer(acceptAfterAttempts = Infinity): Promise<{ port: number }> {
  const hostKey = generateSshKeyPair('test host key');
  let attempts = 0;
  const server = new Server({ hostKeys: [hostKey.privatePem] }, (client) => {
    client.on('error', () => {});
    client.on('authentication', (context) => {
      if (context.method !== 'publickey') return context.reject(['publickey']);
      if (context.signature === undefined) return context.accept(); // the key query: "would you take it?"
      attempts++;
      return attempts > acceptAfterAttempts ? context.accept() : context.reject(['publickey']);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port };
}

function target(port: number) {
  const key = generateSshKeyPair('run key');
  return {
    host: '127.0.0.1',
    port,
    username: 'toalab0',
    privateKey: key.privatePem,
    hostKeys: new HostKeyPin(`[127.0.0.1]:${port}`),
    log: new CommandLog(join(process.env['TMPDIR'] ?? '/tmp', 'ssh-refusal-commands.jsonl')),
    privilege: 'sudo' as const,
  };
}

describe('a login sshd keeps refusing', () => {
  it('ends after the grace, with the advice, long before the deadline', async () => {
    const { port } = await refusingServer();
    const started = Date.now();
    const attempt = SshGuestShell.connect(target(port), { timeoutMs: 60_000, loginRefusal: { graceMs: 1_500, advice: 'add a login to the config' } });
    await expect(attempt).rejects.toBeInstanceOf(SshLoginRefusedError);
    await expect(attempt).rejects.toThrow(/refused toalab0's key for \d+ s .*: add a login to the config$/);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('without a grace, is retried to the deadline and reported as no login', async () => {
    const { port } = await refusingServer();
    const attempt = SshGuestShell.connect(target(port), { timeoutMs: 3_000 });
    await expect(attempt).rejects.toBeInstanceOf(SshNotReadyError);
    await expect(attempt).rejects.toThrow(/answered but no login worked within 3 s/);
  });

  it('a refusal that ends within the grace (the user appears) logs in', async () => {
    const { port } = await refusingServer(2);
    const shell = await SshGuestShell.connect(target(port), { timeoutMs: 30_000, loginRefusal: { graceMs: 20_000, advice: 'unused' } });
    expect(shell.isConnected).toBe(true);
    shell.close();
  });
});
