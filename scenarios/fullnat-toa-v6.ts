import { BackendServer } from '../harness/guest/backend-server.ts';
import { GUEST_IPV6, type DataPathLab } from '../harness/lab/data-path-lab.ts';
import { kernelUnhurt, withToaModule } from '../harness/lab/toa-state.ts';
import { injectedEndpoint, runThroughBalancer } from '../harness/lab/traffic.ts';
import { createSimulatedClientCycle } from '../harness/net/index.ts';
import type { Check, Scenario } from '../harness/core/scenario.ts';

const V6_PORT = 81;
const DUAL_PORT = 82;

/**
 * IPv6: the TOA option's IPv6 form (kind 254, length 20: port + 16-byte
 * address) to an IPv6 listener; and an IPv4 client relayed to a dual-stack
 * (AF_INET6) listener, which must see it v4-mapped (::ffff:a.b.c.d).
 */
export const fullnatToaV6: Scenario<DataPathLab> = {
  id: 'fullnat-toa-v6',
  title: 'FULLNAT + TOA over IPv6, and IPv4 clients on a dual-stack listener',
  setup: `toa.ko loaded; the guest gets ${GUEST_IPV6} on the lab wire; toa-backend on [::]:${V6_PORT} (IPv6 only) and [::]:${DUAL_PORT} (dual-stack)`,
  sends: `3 requests from simulated clients in 2001:db8:1::/64 to [${GUEST_IPV6}]:${V6_PORT} with the 20-byte IPv6 TOA; 3 from IPv4 clients to ${'192.0.2.10'}:${DUAL_PORT} with the 8-byte TOA`,
  passesWhen: 'each IPv6 connection logs its own IPv6 client; each IPv4 connection to the dual-stack listener logs [::ffff:<client>]; no kernel fault',
  mechanism: 'toa',
  async run(lab) {
    const since = await lab.markKernelLog();
    const checks: Check[] = [await withToaModule(lab, {})];
    await lab.enableIpv6();
    const v6 = await BackendServer.start(lab.guest, { port: V6_PORT, family: '6' });
    const dual = await BackendServer.start(lab.guest, { port: DUAL_PORT, family: 'dual' });
    try {
      const six = await runThroughBalancer(lab, {
        toa: { kind: lab.toaKind, placement: ['ack', 'first-data'] },
        connections: 3,
        backend: v6,
        backendAddress: GUEST_IPV6,
        chooseClient: createSimulatedClientCycle({ family: 6 }),
      });
      checks.push(six.allAnswered('IPv6 client → IPv6 listener'), six.eachConnectionSaw('IPv6 client → IPv6 listener', injectedEndpoint));

      const mapped = await runThroughBalancer(lab, { toa: { kind: lab.toaKind, placement: ['ack', 'first-data'] }, connections: 3, backend: dual });
      checks.push(
        mapped.allAnswered('IPv4 client → dual-stack listener'),
        mapped.eachConnectionSaw('IPv4 client → dual-stack listener (v4-mapped)', (c) => {
          const injected = injectedEndpoint(c);
          return injected && { ip: `::ffff:${injected.ip}`, port: injected.port };
        }),
      );
    } finally {
      await v6.stop();
      await dual.stop();
      await lab.disableIpv6();
    }
    checks.push(await kernelUnhurt(lab, since));
    return checks;
  },
};
