import { sameEndpoint } from '../harness/lab/traffic.ts';
import type { DataPathLab } from '../harness/lab/data-path-lab.ts';
import { kernelUnhurt } from '../harness/lab/toa-state.ts';
import { httpRequest, type HttpExchange } from '../harness/client/http-client.ts';
import { DsrBalancer, probeVipArp } from '../harness/net/index.ts';
import { check, finding, type Check, type Scenario } from '../harness/core/scenario.ts';

const VIP = '192.0.2.100';
const CONNECTIONS = 3;
const CLIENT_NETS = ['198.51.100.0/24', '203.0.113.0/24'];

/**
 * Message-forwarding mode (direct server return), as the UCloud guide sets it
 * up: the VIP on the backend's loopback, the balancer forwarding the client's
 * frames unchanged to the backend's MAC, the backend answering from the VIP
 * straight to the client. No TOA: the client's own address reaches the socket.
 */
export const dsrVip: Scenario<DataPathLab> = {
  id: 'dsr-vip',
  title: 'DSR ("message forwarding mode"): VIP on loopback, the backend sees the client',
  setup: `the guest carries the VIP ${VIP}/32 on lo (the guide's lo:1 — added for the scenario unless the guide's procedure already put it there) and routes the client networks back via the balancer; toa-backend on :80`,
  sends: `${CONNECTIONS} requests from simulated clients to ${VIP}:80, framed to the backend's MAC with the VIP as destination; then ARP requests for the VIP on the wire`,
  passesWhen: `each connection's log line names its simulated client with local address ${VIP}:80; whether the backend answers ARP for the VIP (it should not: arp_ignore=1, arp_announce=2) is reported as a finding with evidence`,
  mechanism: 'dsr',
  async run(lab) {
    const since = await lab.markKernelLog();
    const checks: Check[] = [];
    const routes = CLIENT_NETS.map((net) => `ip route add ${net} via ${lab.balancerAddress}`);
    // On a full OS the guide's VIP step already put it on lo: use it, and leave it there.
    const guideVip = (await lab.guest.check('ip -4 -o addr show dev lo')).stdout.includes(` ${VIP}/32 `);
    const vipChanges = guideVip ? [] : [`ip addr add ${VIP}/32 dev lo`];
    await lab.guest.check([...vipChanges, ...routes].join(' && '));
    try {
      await lab.backend.clearLog();
      const balancer = await DsrBalancer.start({ host: lab.host, vip: { address: VIP, port: lab.backend.port }, backendAddress: lab.guestAddress });
      let exchanges: Array<HttpExchange | Error>;
      try {
        exchanges = await Promise.all(
          Array.from({ length: CONNECTIONS }, (_, tag) =>
            httpRequest({ port: balancer.port, path: `/?conn=${tag}`, timeoutMs: 30_000 }).catch((e: Error) => e),
          ),
        );
      } finally {
        await balancer.close();
      }
      const log = await lab.backend.records();
      const matched = balancer.records.filter((record) => {
        const line = log.find((l) => record.clientHead?.includes(`${l.path} `));
        const client = { ip: record.simulatedClient.address, port: record.simulatedClient.port };
        return line && sameEndpoint(line.peer, client) && sameEndpoint(line.accept, client) && sameEndpoint(line.local, { ip: VIP, port: lab.backend.port });
      });
      checks.push(
        check(
          'every request answered 200 through DSR',
          exchanges.every((e) => !(e instanceof Error) && e.status === 200),
          `${CONNECTIONS} × 200`,
          exchanges.map((e) => (e instanceof Error ? e.message : String(e.status))).join(', '),
        ),
        check(
          `each log line names its simulated client, on the VIP ${VIP}`,
          matched.length === CONNECTIONS && log.length === CONNECTIONS,
          `${CONNECTIONS} of ${CONNECTIONS}`,
          `${matched.length} of ${CONNECTIONS} (log has ${log.length} lines)`,
          log.map((l) => l.raw).join('\n'),
        ),
      );

      const loud = await probeVipArp(lab.host, VIP);
      checks.push(
        finding(
          'the backend does not answer ARP for the VIP (default sysctls)',
          !loud.answered,
          'no ARP reply for the VIP on the lab wire',
          loud.answered
            ? `ANSWERED by ${loud.replies[0]?.senderMac}: in a real DSR setup the backend would steal the VIP from the balancer — set net.ipv4.conf.all.arp_ignore=1 and arp_announce=2`
            : 'silent',
          JSON.stringify(loud, null, 1),
        ),
      );
      await setArpSysctls(lab, 1, 2);
      const quiet = await probeVipArp(lab.host, VIP);
      checks.push(
        finding('with arp_ignore=1 and arp_announce=2 the backend is silent', !quiet.answered, 'no ARP reply', quiet.answered ? 'still answers' : 'silent'),
      );
    } finally {
      await setArpSysctls(lab, 0, 0);
      await lab.guest.run([...vipChanges, ...routes].map((c) => c.replace(/^ip (addr|route) add/, 'ip $1 del')).join('; '));
    }
    checks.push(await kernelUnhurt(lab, since));
    return checks;
  },
};

async function setArpSysctls(lab: DataPathLab, ignore: number, announce: number): Promise<void> {
  await lab.guest.check(
    ['all', lab.labInterface]
      .flatMap((nic) => [`echo ${ignore} > /proc/sys/net/ipv4/conf/${nic}/arp_ignore`, `echo ${announce} > /proc/sys/net/ipv4/conf/${nic}/arp_announce`])
      .join(' && '),
  );
}
