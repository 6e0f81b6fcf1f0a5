import type { DataPathLab } from '../harness/lab/data-path-lab.ts';
import { kernelUnhurt, withoutToaModule } from '../harness/lab/toa-state.ts';
import { balancerEndpoint, runThroughBalancer } from '../harness/lab/traffic.ts';
import type { Scenario } from '../harness/core/scenario.ts';

const CONNECTIONS = 3;

/**
 * The control: the same traffic with the option on the wire but no module to
 * read it. If this ever showed a simulated client, the lab would be lying.
 */
export const fullnatNoToa: Scenario<DataPathLab> = {
  id: 'fullnat-no-toa',
  title: "Control: without toa.ko the backend sees the balancer's own address",
  setup: 'toa.ko not loaded; toa-backend listening on :80',
  sends: `${CONNECTIONS} HTTP requests through the FULLNAT balancer, TOA (kind 254) in the handshake ACK and first data segment`,
  passesWhen: "every access-log line names the balancer's own address and the source port of that backend connection",
  mechanism: 'toa',
  async run(lab) {
    const since = await lab.markKernelLog();
    const unloaded = await withoutToaModule(lab);
    const traffic = await runThroughBalancer(lab, {
      toa: { kind: lab.toaKind, placement: ['ack', 'first-data'] },
      connections: CONNECTIONS,
    });
    return [
      unloaded,
      traffic.allAnswered('no toa.ko'),
      traffic.eachConnectionSaw('no toa.ko', balancerEndpoint),
      await kernelUnhurt(lab, since),
    ];
  },
};
