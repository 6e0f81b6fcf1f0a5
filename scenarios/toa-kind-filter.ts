import type { DataPathLab } from '../harness/lab/data-path-lab.ts';
import { kernelUnhurt, withToaModule } from '../harness/lab/toa-state.ts';
import { balancerEndpoint, runThroughBalancer } from '../harness/lab/traffic.ts';
import type { Scenario } from '../harness/core/scenario.ts';
import { check } from '../harness/core/scenario.ts';
import { readToaStats } from '../harness/toa/toa-module.ts';
import { kindOutside } from '../harness/net/index.ts';

const CONNECTIONS = 3;

/**
 * The module honours only the option kinds it was told to: loaded with its declared kinds
 * (harness/toa/module-spec.ts; 254 unless the run says otherwise), it is sent the first field
 * kind outside them — 200 by default; 250 for a module that accepts 200, 253 and 254.
 */
export const toaKindFilter: Scenario<DataPathLab> = {
  id: 'toa-kind-filter',
  title: 'toa.ko ignores option kinds it was not told to accept',
  setup: "toa.ko loaded with toa_kinds = the module's declared kinds (default 254); toa-backend listening on :80",
  sends: `${CONNECTIONS} HTTP requests through the FULLNAT balancer with a standard TOA under a field kind outside the declared ones, in the handshake ACK and first data segment`,
  passesWhen: "every access-log line names the balancer's own address, and /proc/net/toa_stats counts no TOA socket",
  mechanism: 'toa',
  notApplicable(lab) {
    if (!lab.ownModule) return "needs toa-lab's toa_kinds parameter";
    if (kindOutside(lab.moduleKinds) === undefined) return 'the module claims every option kind';
    return undefined;
  },
  async run(lab) {
    const since = await lab.markKernelLog();
    const sent = kindOutside(lab.moduleKinds)!; // notApplicable above guarantees one
    const label = `kind ${sent} sent, ${lab.moduleKinds.join(',')} accepted`;
    const loaded = await withToaModule(lab, { kinds: lab.moduleKinds });
    const traffic = await runThroughBalancer(lab, {
      toa: { kind: sent, placement: ['ack', 'first-data'] },
      connections: CONNECTIONS,
    });
    const stats = await readToaStats(lab.guest);
    return [
      loaded,
      traffic.allAnswered(label),
      traffic.eachConnectionSaw(label, balancerEndpoint),
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
