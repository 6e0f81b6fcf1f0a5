import type { DataPathLab } from '../harness/lab/data-path-lab.ts';
import { kernelUnhurt, withToaModule } from '../harness/lab/toa-state.ts';
import { injectedEndpoint, runThroughBalancer } from '../harness/lab/traffic.ts';
import { check, type Scenario } from '../harness/core/scenario.ts';
import { readToaStats } from '../harness/toa/toa-module.ts';

const CONNECTIONS = 10_000;
const CONCURRENCY = 200;

/**
 * Many connections at once, each from its own simulated client: a module
 * that mixes up sockets under concurrency (a shared slot, a race between
 * syn_recv_sock and getname) shows here as a log line naming someone else.
 */
export const load: Scenario<DataPathLab> = {
  id: 'load',
  title: `${CONNECTIONS.toLocaleString('en')} connections, ${CONCURRENCY} concurrent: every log line names its own client`,
  setup: 'toa.ko loaded; toa-backend listening on :80',
  sends: `${CONNECTIONS} requests GET /?conn=N through the FULLNAT balancer, ${CONCURRENCY} in flight, each with a distinct simulated client ip:port in TOA`,
  passesWhen: 'every connection gets 200 and its own log line (found by its conn tag) names exactly the client injected for it: 0 mismatches; no probe missed; no kernel fault',
  mechanism: 'toa',
  async run(lab) {
    const since = await lab.markKernelLog();
    const loaded = await withToaModule(lab, {});
    const started = Date.now();
    const traffic = await runThroughBalancer(lab, {
      toa: { kind: lab.toaKind, placement: ['ack', 'first-data'] },
      connections: CONNECTIONS,
      concurrency: CONCURRENCY,
    });
    const seconds = (Date.now() - started) / 1000;
    const distinct = new Set(traffic.injectedClients().map((c) => `${c.ip}:${c.port}`)).size;
    // A vendor's module keeps no toa_stats of ours: its verdict rests on the log lines alone.
    const stats = lab.ownModule ? await readToaStats(lab.guest) : undefined;
    return [
      loaded,
      check('every connection had its own simulated client', distinct === CONNECTIONS, `${CONNECTIONS} distinct`, `${distinct} distinct`),
      traffic.allAnswered(`${CONNECTIONS} connections`),
      traffic.eachConnectionSaw(`${CONNECTIONS} connections`, injectedEndpoint),
      ...(stats
        ? [
            check(
              'toa.ko missed no probe and holds no stale entry',
              stats.probe_missed === 0 && stats.entries === 0,
              'probe_missed 0, entries 0 after the connections closed',
              `probe_missed ${stats.probe_missed}, entries ${stats.entries}; ${(CONNECTIONS / seconds).toFixed(0)} conn/s`,
              JSON.stringify(stats, null, 1),
            ),
          ]
        : []),
      await kernelUnhurt(lab, since),
    ];
  },
};
