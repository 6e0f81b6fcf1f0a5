import type { DataPathLab } from '../harness/lab/data-path-lab.ts';
import { kernelUnhurt, withToaModule } from '../harness/lab/toa-state.ts';
import { injectedEndpoint, runThroughBalancer, type ToaPlacementVariant } from '../harness/lab/traffic.ts';
import type { Check, Scenario } from '../harness/core/scenario.ts';

/** Where the balancer puts TOA, and whether the bare handshake ACK is "lost". */
const PLACEMENTS: readonly ToaPlacementVariant[] = [
  { label: 'TOA in the handshake ACK', placement: ['ack'], dropHandshakeAck: false },
  { label: 'TOA in the first data segment, handshake ACK lost', placement: ['first-data'], dropHandshakeAck: true },
  { label: 'TOA in both the handshake ACK and the first data segment', placement: ['ack', 'first-data'], dropHandshakeAck: false },
];
const CONNECTIONS = 3;

export const fullnatToaV4: Scenario<DataPathLab> = {
  id: 'fullnat-toa-v4',
  title: 'FULLNAT + TOA over IPv4: the backend sees each original client ip:port',
  setup: 'toa.ko loaded with default parameters (kind 254); toa-backend listening on :80',
  sends: `${CONNECTIONS} HTTP requests per placement through the FULLNAT balancer, each from a distinct simulated client in 198.51.100.0/24 or 203.0.113.0/24; placements: ${PLACEMENTS.map((p) => p.label).join('; ')}`,
  passesWhen: "the backend's own access log has exactly one line per request naming the injected client ip:port, via getpeername() and via accept(), and the kernel logs no fault",
  mechanism: 'toa',
  async run(lab) {
    const since = await lab.markKernelLog();
    const checks: Check[] = [await withToaModule(lab, {})];
    for (const variant of PLACEMENTS) {
      const traffic = await runThroughBalancer(lab, {
        toa: { kind: lab.toaKind, placement: variant.placement, dropHandshakeAck: variant.dropHandshakeAck },
        connections: CONNECTIONS,
      });
      checks.push(traffic.allAnswered(variant.label));
      checks.push(traffic.eachConnectionSaw(variant.label, injectedEndpoint));
    }
    checks.push(await kernelUnhurt(lab, since));
    return checks;
  },
};
