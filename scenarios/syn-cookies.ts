import type { DataPathLab } from '../harness/lab/data-path-lab.ts';
import { kernelUnhurt, withToaModule } from '../harness/lab/toa-state.ts';
import { injectedEndpoint, runThroughBalancer, type ToaPlacementVariant } from '../harness/lab/traffic.ts';
import { counterGrowth, readNetCounters } from '../harness/guest/net-counters.ts';
import { check, type Check, type Scenario } from '../harness/core/scenario.ts';

/**
 * SYN cookies forced (`net.ipv4.tcp_syncookies=2`: every SYN answered with a
 * cookie, no request socket kept): the connection's socket is then built from
 * the cookie ACK (cookie_v4_check → syn_recv_sock), a path a TOA module that
 * only watches the request-socket path misses. The guest's own counters show
 * every socket came from a cookie.
 */
const PLACEMENTS: readonly ToaPlacementVariant[] = [
  { label: 'cookies: TOA in the cookie ACK', placement: ['ack'], dropHandshakeAck: false },
  { label: 'cookies: TOA in the first data segment, the cookie ACK lost', placement: ['first-data'], dropHandshakeAck: true },
];
const CONNECTIONS = 3;
const SYSCTL = '/proc/sys/net/ipv4/tcp_syncookies';

export const synCookies: Scenario<DataPathLab> = {
  id: 'syn-cookies',
  title: 'SYN cookies forced: the socket comes from the cookie ACK, and the backend still sees each client',
  setup: `toa.ko loaded with default parameters; toa-backend on :80; ${SYSCTL} set to 2 (always cookies), restored afterwards`,
  sends: `${CONNECTIONS} HTTP requests per placement through the FULLNAT balancer: ${PLACEMENTS.map((p) => p.label).join('; ')}`,
  passesWhen:
    "every request is answered and logged with its injected client (getpeername and accept); the guest's TcpExt counters show a cookie sent " +
    'for every SYN and a socket built from a cookie for every connection; the kernel logs no fault',
  mechanism: 'toa',
  async run(lab) {
    const since = await lab.markKernelLog();
    const checks: Check[] = [await withToaModule(lab, {})];
    const previous = (await lab.guest.check(`cat ${SYSCTL}`)).stdout.trim();
    await lab.guest.check(`echo 2 > ${SYSCTL}`);
    try {
      const before = await readNetCounters(lab.guest);
      for (const variant of PLACEMENTS) {
        const traffic = await runThroughBalancer(lab, {
          toa: { kind: lab.toaKind, placement: variant.placement, dropHandshakeAck: variant.dropHandshakeAck },
          connections: CONNECTIONS,
        });
        checks.push(traffic.allAnswered(variant.label), traffic.eachConnectionSaw(variant.label, injectedEndpoint));
      }
      const after = await readNetCounters(lab.guest);
      const sent = counterGrowth(before, after, 'TcpExt.SyncookiesSent');
      const received = counterGrowth(before, after, 'TcpExt.SyncookiesRecv');
      const wanted = PLACEMENTS.length * CONNECTIONS;
      checks.push(
        check(
          'every socket came from a SYN cookie (the guest\'s TcpExt counters)',
          sent >= wanted && received >= wanted,
          `SyncookiesSent and SyncookiesRecv each +${wanted} or more`,
          `SyncookiesSent +${sent}, SyncookiesRecv +${received}`,
        ),
      );
    } finally {
      await lab.guest.check(`echo ${previous || 1} > ${SYSCTL}`);
    }
    checks.push(await kernelUnhurt(lab, since));
    return checks;
  },
};
