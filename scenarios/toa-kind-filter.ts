import type { DataPathLab } from '../harness/lab/data-path-lab.ts';
import { kernelUnhurt, withToaModule } from '../harness/lab/toa-state.ts';
import { balancerEndpoint, runThroughBalancer } from '../harness/lab/traffic.ts';
import type { Scenario } from '../harness/core/scenario.ts';
import { check } from '../harness/core/scenario.ts';
import { readToaStats } from '../harness/toa/toa-module.ts';

const CONNECTIONS = 3;

/** The module honours only the option kinds it was told to: 254 on the wire, 200 accepted. */
export const toaKindFilter: Scenario<DataPathLab> = {
  id: 'toa-kind-filter',
  title: 'toa.ko ignores option kinds it was not told to accept',
  setup: 'toa.ko loaded with toa_kinds=200; toa-backend listening on :80',
  sends: `${CONNECTIONS} HTTP requests through the FULLNAT balancer with TOA kind 254 in the handshake ACK and first data segment`,
  passesWhen: "every access-log line names the balancer's own address, and /proc/net/toa_stats counts no TOA socket",
  notApplicable: (lab) => (lab.ownModule ? undefined : "needs toa-lab's toa_kinds parameter"),
  async run(lab) {
    const since = await lab.markKernelLog();
    const loaded = await withToaModule(lab, { kinds: [200] });
    const traffic = await runThroughBalancer(lab, {
      toa: { kind: 254, placement: ['ack', 'first-data'] },
      connections: CONNECTIONS,
    });
    const stats = await readToaStats(lab.guest);
    return [
      loaded,
      traffic.allAnswered('kind 254 sent, 200 accepted'),
      traffic.eachConnectionSaw('kind 254 sent, 200 accepted', balancerEndpoint),
      check(
        'toa_stats: no socket took a TOA address',
        stats.syn_recv_sock_toa === 0 && (stats.syn_recv_sock_no_toa ?? 0) >= CONNECTIONS,
        `syn_recv_sock_toa 0, syn_recv_sock_no_toa ≥ ${CONNECTIONS}`,
        `syn_recv_sock_toa ${stats.syn_recv_sock_toa}, syn_recv_sock_no_toa ${stats.syn_recv_sock_no_toa}`,
        JSON.stringify(stats, null, 1),
      ),
      await kernelUnhurt(lab, since),
    ];
  },
};
