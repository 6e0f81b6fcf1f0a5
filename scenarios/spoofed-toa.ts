import { SPOOFER_ADDRESS, type DataPathLab } from '../harness/lab/data-path-lab.ts';
import { kernelUnhurt, withToaModule } from '../harness/lab/toa-state.ts';
import { balancerEndpoint, injectedEndpoint, runThroughBalancer, type TrafficRound } from '../harness/lab/traffic.ts';
import { check, finding, type Check, type Scenario } from '../harness/core/scenario.ts';
import { readToaStats } from '../harness/toa/toa-module.ts';

const BALANCER = '192.0.2.2';
const FORGED_CLIENT = { address: '203.0.113.250', port: 4444 };

/**
 * TOA is just bytes in a TCP header: anyone who reaches the backend directly
 * can claim to be anyone. A module must let the operator name the balancers
 * whose TOA it trusts; this scenario checks ours does, and reports for the
 * guides' trust-everyone behaviour whether a spoof gets through.
 */
export const spoofedToa: Scenario<DataPathLab> = {
  id: 'spoofed-toa',
  title: 'A host that is not the balancer cannot forge the client address',
  setup: `toa.ko loaded with trusted_sources=${BALANCER}, then with default parameters; toa-backend on :80`,
  sends: `from ${SPOOFER_ADDRESS} (not the balancer): 3 connections straight to the backend with a TOA option naming ${FORGED_CLIENT.address}:${FORGED_CLIENT.port}; from the balancer ${BALANCER}: 3 ordinary TOA connections`,
  passesWhen: `with trusted_sources set, the backend logs ${SPOOFER_ADDRESS} for the spoofer (toa_untrusted_source counts them) and the injected clients for the balancer; with default parameters, whether the spoof succeeds is reported as a security finding`,
  mechanism: 'toa',
  async run(lab) {
    const since = await lab.markKernelLog();
    const checks: Check[] = lab.ownModule ? await trustedSourcesHoldOff(lab) : [];

    checks.push(await withToaModule(lab, {}));
    const open = await spoofRound(lab);
    const spoofed = open.connections.filter((c) => c.logLine?.peer.ip === FORGED_CLIENT.address).length;
    checks.push(
      finding(
        'default parameters (trust every source, as the guides\' modules do): does the spoof succeed?',
        spoofed === 0,
        'the spoofer is seen as itself',
        spoofed ? `SPOOF SUCCEEDS: ${spoofed} of 3 connections logged as ${FORGED_CLIENT.address}${lab.ownModule ? ' — set trusted_sources' : ''}` : 'the spoof fails',
        open.log.map((l) => l.raw).join('\n'),
      ),
    );
    checks.push(await kernelUnhurt(lab, since));
    return checks;
  },
};

/** toa-lab's module with trusted_sources set: the spoofer is ignored, the balancer honoured. */
async function trustedSourcesHoldOff(lab: DataPathLab): Promise<Check[]> {
  const checks: Check[] = [await withToaModule(lab, { trustedSources: [BALANCER] })];
  const spoof = await spoofRound(lab);
  const legit = await runThroughBalancer(lab, { toa: { kind: lab.toaKind, placement: ['ack', 'first-data'] }, connections: 3 });
  const stats = await readToaStats(lab.guest);
  checks.push(
    spoof.allAnswered('spoofer'),
    spoof.eachConnectionSaw(`trusted_sources=${BALANCER}: the spoofer is seen as itself`, balancerEndpoint),
    check(
      'toa_stats counts the untrusted TOA',
      (stats.toa_untrusted_source ?? 0) >= 3,
      'toa_untrusted_source ≥ 3',
      `toa_untrusted_source ${stats.toa_untrusted_source}`,
    ),
    legit.eachConnectionSaw(`trusted_sources=${BALANCER}: the balancer's TOA is honoured`, injectedEndpoint),
  );
  return checks;
}

function spoofRound(lab: DataPathLab): Promise<TrafficRound> {
  return runThroughBalancer(lab, {
    address: SPOOFER_ADDRESS,
    toa: { kind: lab.toaKind, placement: ['ack', 'first-data'] },
    chooseClient: () => FORGED_CLIENT,
    connections: 3,
  });
}
