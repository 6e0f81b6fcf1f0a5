import { fnv1a64 } from '../harness/client/fnv1a.ts';
import { openHttpRequest, type HttpExchange } from '../harness/client/http-client.ts';
import type { MicroLab } from '../harness/lab/micro-lab.ts';
import { kernelUnhurt, withToaModule } from '../harness/lab/toa-state.ts';
import { peersMatch } from '../harness/checks/peer-match.ts';
import { check, type Check, type Scenario } from '../harness/runner/scenario.ts';
import { readToaStats, removeToaModule } from '../harness/toa/toa-module.ts';

const OPEN_CONNECTIONS = 5;
const BODY = Buffer.alloc(64 * 1024, 0x5a);

/**
 * Unloading the module must not hurt sockets it already rewrote: they keep
 * working, the kernel stays clean, and the module frees what it remembered.
 */
export const rmmodOpenConnections: Scenario<MicroLab> = {
  id: 'rmmod-open-connections',
  title: 'rmmod toa while TOA connections are open: no oops, the connections finish',
  setup: 'toa.ko loaded; toa-backend listening on :80',
  sends: `${OPEN_CONNECTIONS} POST /echo requests through the balancer whose 64 KiB bodies are held back until after \`rmmod toa\``,
  passesWhen: 'rmmod succeeds while the sockets are open, every held request then completes with its echo intact, the log names the injected clients (captured at accept), and the kernel logs no fault',
  async run(lab) {
    const since = await lab.markKernelLog();
    const checks: Check[] = [await withToaModule(lab, {})];
    await lab.backend.clearLog();
    const balancer = await lab.startBalancer({ toa: { kind: lab.toaKind, placement: ['ack', 'first-data'] } });
    try {
      const open = await Promise.all(
        Array.from({ length: OPEN_CONNECTIONS }, () =>
          openHttpRequest({ port: balancer.port, method: 'POST', path: '/echo', body: BODY, timeoutMs: 120_000 }),
        ),
      );
      // The module's table holds one entry per TOA socket: the guest's word that they are open.
      const entries = await waitForEntries(lab, OPEN_CONNECTIONS);
      checks.push(
        check('the TOA sockets are open in the guest before rmmod', entries >= OPEN_CONNECTIONS, `entries ≥ ${OPEN_CONNECTIONS}`, `entries ${entries}`),
      );
      const rmmod = await removeToaModule(lab.guest);
      const unloaded = await lab.guest.run('dmesg | grep "TOA: toa unloaded"');
      checks.push(
        check(
          'rmmod toa succeeds with the connections open',
          rmmod.exitCode === 0 && unloaded.exitCode === 0,
          'exit 0 and "TOA: toa unloaded" in dmesg',
          `exit ${rmmod.exitCode}; ${unloaded.stdout.trim() || 'no unload message'}`,
          [rmmod.stderr, unloaded.stdout].join('\n').trim() || undefined,
        ),
      );
      const results = await Promise.all(open.map((o) => o.finish().catch((e: Error) => e)));
      const intact = results.filter((r): r is HttpExchange => !(r instanceof Error) && r.status === 200 && fnv1a64(r.body) === fnv1a64(BODY));
      checks.push(
        check(
          'the held connections complete after rmmod, echo intact',
          intact.length === OPEN_CONNECTIONS,
          `${OPEN_CONNECTIONS} × 200 with the 64 KiB body echoed`,
          `${intact.length} intact; ${results.filter((r) => r instanceof Error).map((r) => (r as Error).message).join('; ') || 'no errors'}`,
        ),
      );
      const injected = balancer.records.flatMap((r) => (r.injectedClient ? [{ ip: r.injectedClient.address, port: r.injectedClient.port }] : []));
      checks.push(...peersMatch('connections opened before rmmod', injected, await lab.backend.records()));
    } finally {
      await balancer.close();
    }
    checks.push(await kernelUnhurt(lab, since));
    return checks;
  },
};

async function waitForEntries(lab: MicroLab, wanted: number): Promise<number> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const entries = (await readToaStats(lab.guest)).entries ?? 0;
    if (entries >= wanted || Date.now() > deadline) return entries;
    await new Promise((r) => setTimeout(r, 200));
  }
}
