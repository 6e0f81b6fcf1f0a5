import type { DataPathLab } from '../harness/lab/data-path-lab.ts';
import { kernelUnhurt, withToaModule } from '../harness/lab/toa-state.ts';
import { injectedEndpoint, runThroughBalancer } from '../harness/lab/traffic.ts';
import { parseEthernetFrame, parseIpv4Packet, parseTcpSegment, findToaOption, EtherType, IpProtocol } from '../harness/net/index.ts';
import { check, type Check, type Scenario } from '../harness/core/scenario.ts';

/**
 * A balancer bug class: the whole request and the client's FIN arrive
 * together, so the first data segment to the backend also carries FIN (and,
 * with the handshake ACK lost, is the very segment that creates the socket).
 */
export const firstDataFin: Scenario<DataPathLab> = {
  id: 'first-data-fin',
  title: 'The first data segment also carries FIN',
  setup: 'toa.ko loaded; toa-backend listening on :80',
  sends: 'requests whose bytes and FIN the client sends at once, so the balancer\'s first data segment carries FIN and TOA; once with the handshake ACK, once with it "lost"',
  passesWhen: 'the wire shows data+FIN+TOA in one segment, every request is answered, and each log line names its injected client',
  mechanism: 'toa',
  async run(lab) {
    const since = await lab.markKernelLog();
    const checks: Check[] = [await withToaModule(lab, {})];
    for (const dropHandshakeAck of [false, true]) {
      const label = dropHandshakeAck ? 'data+FIN completes the handshake' : 'data+FIN after the handshake ACK';
      let dataFinWithToa = 0;
      const stop = lab.watchFrames((frame, direction) => {
        if (direction === 'out' && isDataFinWithToa(frame)) dataFinWithToa++;
      });
      const traffic = await runThroughBalancer(lab, {
        toa: { kind: lab.toaKind, placement: ['ack', 'first-data'], dropHandshakeAck },
        connections: 3,
        finWithRequest: true,
        // Without this the guest's SYN-ACK may arrive between the client's bytes and its FIN.
        holdClientDataUntilFin: true,
      }).finally(stop);
      checks.push(
        check(`${label}: the wire carried data+FIN+TOA segments`, dataFinWithToa >= 3, '≥ 3 such segments', `${dataFinWithToa}`),
        traffic.allAnswered(label),
        traffic.eachConnectionSaw(label, injectedEndpoint),
      );
    }
    checks.push(await kernelUnhurt(lab, since));
    return checks;
  },
};

function isDataFinWithToa(raw: Uint8Array): boolean {
  try {
    const frame = parseEthernetFrame(raw);
    if (frame.etherType !== EtherType.ipv4) return false;
    const ip = parseIpv4Packet(frame.payload);
    if (ip.protocol !== IpProtocol.tcp) return false;
    const tcp = parseTcpSegment(ip.payload);
    return tcp.flags.fin && tcp.payload.length > 0 && findToaOption(tcp.options) !== undefined;
  } catch {
    return false;
  }
}
