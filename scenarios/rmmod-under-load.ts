import { backendPatternBytes, fnv1a64 } from '../harness/client/fnv1a.ts';
import { httpRequest, type HttpExchange } from '../harness/client/http-client.ts';
import type { DataPathLab } from '../harness/lab/data-path-lab.ts';
import { kernelUnhurt, moduleOnly, withToaModule } from '../harness/lab/toa-state.ts';
import { balancerEndpoint, runThroughBalancer } from '../harness/lab/traffic.ts';
import { check, type Check, type Scenario } from '../harness/core/scenario.ts';
import { waitForOpenConnections } from '../harness/guest/tcp-sockets.ts';
import { removeToaModule } from '../harness/toa/toa-module.ts';

const TRANSFERS = 100;
const BYTES = 1024 * 1024;

/** Unload under traffic: 100 downloads in flight when `rmmod toa` runs. */
export const rmmodUnderLoad: Scenario<DataPathLab> = {
  id: 'rmmod-under-load',
  title: `rmmod toa while ${TRANSFERS} connections are mid-transfer: no oops, traffic continues`,
  setup: 'toa.ko loaded; toa-backend listening on :80',
  sends: `${TRANSFERS} concurrent GET /bytes/${BYTES} through the FULLNAT balancer; rmmod toa while they are in flight; then 3 new connections`,
  passesWhen: 'rmmod succeeds mid-transfer, all downloads complete byte-identical, the kernel logs no fault, and new connections work (seen from the balancer\'s address, the module being gone)',
  mechanism: 'toa',
  notApplicable: moduleOnly('it is about unloading toa.ko under load (eBPF TOA is detached, never unloaded)'),
  async run(lab) {
    const since = await lab.markKernelLog();
    const checks: Check[] = [await withToaModule(lab, {})];
    await lab.backend.clearLog();
    const balancer = await lab.startBalancer({ toa: { kind: lab.toaKind, placement: ['ack', 'first-data'] } });
    const expected = fnv1a64(backendPatternBytes(BYTES));
    let results: Array<HttpExchange | Error>;
    let inFlight = 0;
    try {
      const downloads = Array.from({ length: TRANSFERS }, () =>
        httpRequest({ port: balancer.port, path: `/bytes/${BYTES}`, timeoutMs: 180_000 }).catch((e: Error) => e),
      );
      inFlight = await waitForOpenConnections(lab.guest, lab.backend.port, TRANSFERS / 2);
      const rmmod = await removeToaModule(lab.guest);
      checks.push(
        check(
          'rmmod toa succeeds mid-transfer',
          rmmod.exitCode === 0 && inFlight >= TRANSFERS / 2,
          `exit 0 with ≥ ${TRANSFERS / 2} connections open in the guest`,
          `exit ${rmmod.exitCode} with ${inFlight} open; ${rmmod.stderr.trim()}`,
        ),
      );
      results = await Promise.all(downloads);
    } finally {
      await balancer.close();
    }
    const intact = results.filter((r) => !(r instanceof Error) && r.status === 200 && fnv1a64(r.body) === expected).length;
    checks.push(check('every in-flight download completes byte-identical', intact === TRANSFERS, `${TRANSFERS} intact`, `${intact} intact`));
    const after = await runThroughBalancer(lab, { toa: { kind: lab.toaKind, placement: ['ack', 'first-data'] }, connections: 3 });
    checks.push(after.allAnswered('after rmmod'), after.eachConnectionSaw('after rmmod (module gone)', balancerEndpoint));
    checks.push(await kernelUnhurt(lab, since));
    return checks;
  },
};
