import type { DataPathLab } from '../harness/lab/data-path-lab.ts';
import { BackendServer } from '../harness/guest/backend-server.ts';
import { kernelUnhurt, withToaModule } from '../harness/lab/toa-state.ts';
import { injectedEndpoint, runThroughBalancer } from '../harness/lab/traffic.ts';
import { finding, type Check, type Scenario } from '../harness/core/scenario.ts';
import type { ToaPlacement } from '../harness/net/index.ts';

// Not 8080: a full OS has the guide's nginx there.
const DEFERRED_PORT = 8081;

/**
 * nginx's `listen ... deferred` (TCP_DEFER_ACCEPT) drops the bare handshake
 * ACK and creates the socket from the first data segment: TOA that rides only
 * on the ACK is then never seen. A real balancer therefore also puts it in
 * the first data segment; this scenario finds which placements a module needs.
 */
export const deferAccept: Scenario<DataPathLab> = {
  id: 'defer-accept',
  title: 'TCP_DEFER_ACCEPT: which TOA placements the module needs',
  setup: `toa.ko loaded; a second toa-backend on :${DEFERRED_PORT} with TCP_DEFER_ACCEPT (as nginx "listen ... deferred")`,
  sends: '3 requests per placement: TOA in the handshake ACK only; in the first data segment only; in both',
  passesWhen: 'with TOA in both (what a real balancer sends) every log line names the injected client; the ACK-only and data-only outcomes are reported as findings',
  mechanism: 'toa',
  async run(lab) {
    const since = await lab.markKernelLog();
    const checks: Check[] = [await withToaModule(lab, {})];
    const deferred = await BackendServer.start(lab.guest, { port: DEFERRED_PORT, deferred: true });
    const round = (placement: ToaPlacement[]) =>
      runThroughBalancer(lab, { toa: { kind: lab.toaKind, placement }, connections: 3, backend: deferred });
    try {
      const both = await round(['ack', 'first-data']);
      checks.push(both.allAnswered('deferred, TOA in ACK + first data'), both.eachConnectionSaw('deferred, TOA in ACK + first data', injectedEndpoint));
      for (const placement of [['ack'], ['first-data']] as ToaPlacement[][]) {
        const only = await round(placement);
        const verdict = only.eachConnectionSaw(`deferred, TOA in ${placement[0]} only`, injectedEndpoint);
        checks.push(
          finding(
            `deferred listener, TOA in the ${placement[0] === 'ack' ? 'handshake ACK' : 'first data segment'} only`,
            verdict.passed,
            'the injected client',
            verdict.passed ? 'seen: this placement is enough' : `not seen (${verdict.observed}): this module needs TOA in the first data segment`,
            verdict.evidence,
          ),
        );
      }
    } finally {
      await deferred.stop();
    }
    checks.push(await kernelUnhurt(lab, since));
    return checks;
  },
};
