import { fnv1a64 } from '../harness/client/fnv1a.ts';
import { openHttpRequest, type HttpExchange } from '../harness/client/http-client.ts';
import type { DataPathLab } from '../harness/lab/data-path-lab.ts';
import { kernelUnhurt, moduleOnly, withToaModule } from '../harness/lab/toa-state.ts';
import { peersMatch } from '../harness/checks/peer-match.ts';
import { check, type Check, type Scenario } from '../harness/core/scenario.ts';
import { waitForOpenConnections } from '../harness/guest/tcp-sockets.ts';
import { isToaModuleLoaded, removeToaModule } from '../harness/toa/toa-module.ts';

const OPEN_CONNECTIONS = 5;
const BODY = Buffer.alloc(64 * 1024, 0x5a);

/**
 * Unloading the module must not hurt sockets it already rewrote: they keep
 * working, the kernel stays clean, and the module frees what it remembered.
 */
export const rmmodOpenConnections: Scenario<DataPathLab> = {
  id: 'rmmod-open-connections',
  title: 'rmmod toa while TOA connections are open: no oops, the connections finish',
  setup: 'toa.ko loaded; toa-backend listening on :80',
  sends: `${OPEN_CONNECTIONS} POST /echo requests through the balancer whose 64 KiB bodies are held back until after \`rmmod toa\``,
  passesWhen: 'rmmod succeeds while the sockets are open (the guest lists them open), every held request then completes with its echo intact, the log names the injected clients (captured at accept), and the kernel logs no fault',
  mechanism: 'toa',
  notApplicable: moduleOnly('it is about unloading toa.ko under open connections (eBPF TOA is detached, never unloaded)'),
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
      // The guest's own socket table says the connections are open (whatever the module keeps).
      const openInGuest = await waitForOpenConnections(lab.guest, lab.backend.port, OPEN_CONNECTIONS);
      checks.push(
        check('the connections are open in the guest before rmmod', openInGuest >= OPEN_CONNECTIONS, `≥ ${OPEN_CONNECTIONS} open (ESTABLISHED/CLOSE_WAIT) on :${lab.backend.port}`, `${openInGuest}`),
      );
      const rmmod = await removeToaModule(lab.guest);
      const gone = !(await isToaModuleLoaded(lab.guest));
      const unloaded = await lab.guest.run('dmesg | grep -i "toa unloaded"');
      checks.push(
        check(
          'rmmod toa succeeds with the connections open',
          rmmod.exitCode === 0 && gone,
          'exit 0 and toa gone from /proc/modules',
          `exit ${rmmod.exitCode}; ${gone ? 'unloaded' : 'still loaded'}; ${unloaded.stdout.trim() || 'no unload message'}`,
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
