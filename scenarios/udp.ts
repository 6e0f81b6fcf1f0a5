import { udpExchange } from '../harness/client/udp-client.ts';
import type { DataPathLab } from '../harness/lab/data-path-lab.ts';
import { kernelUnhurt, withToaModule } from '../harness/lab/toa-state.ts';
import { UdpBalancer } from '../harness/net/index.ts';
import { check, type Check, type Scenario } from '../harness/core/scenario.ts';

const UDP_PORT = 5300;
const LOG = `/var/log/toa-backend-udp-${UDP_PORT}.log`;

/**
 * TOA is a TCP option: a UDP listener behind a FULLNAT balancer sees the
 * balancer, whatever module is loaded (the Huawei guide: "TOA does not support
 * listeners using the UDP protocol"). This documents it with the guest's log.
 */
export const udp: Scenario<DataPathLab> = {
  id: 'udp',
  title: 'UDP: TOA does not apply — the backend sees the balancer',
  setup: `toa.ko loaded; toa-backend --udp ${UDP_PORT} (an echo server logging each datagram's peer)`,
  sends: '2 UDP client sessions × 2 datagrams through a FULLNAT UDP relay',
  passesWhen: "every datagram is echoed, and every log line names the balancer's own address and port: there is no client address to recover",
  mechanism: 'toa',
  async run(lab) {
    const since = await lab.markKernelLog();
    const checks: Check[] = [await withToaModule(lab, {})];
    // A fresh log: a scenario run twice on one guest must not count the first run's lines.
    await lab.guest.check(`rm -f ${LOG}`);
    const pid = Number((await lab.guest.check(`toa-backend --udp ${UDP_PORT} --log ${LOG} </dev/null >/dev/null 2>/tmp/udp.err & echo $!`)).stdout.trim());
    try {
      await lab.guest.check(`for i in $(seq 50); do grep -q listening /tmp/udp.err && exit 0; sleep 0.1; done; cat /tmp/udp.err; exit 1`, { timeoutMs: 15_000 });
      const balancer = await UdpBalancer.start({ host: lab.host, backend: { address: lab.guestAddress, port: UDP_PORT } });
      let echoes: Array<string[] | Error>;
      try {
        echoes = await Promise.all([0, 1].map((i) => udpExchange(balancer.port, [`ping ${i}a`, `ping ${i}b`]).catch((e: Error) => e)));
      } finally {
        await balancer.close();
      }
      const lines = (await lab.guest.check(`cat ${LOG}`)).stdout.trim().split('\n').filter(Boolean);
      const balancerPeers = new Set(balancer.records.map((r) => `${r.balancer.address}:${r.balancer.port}`));
      const fromBalancer = lines.filter((l) => balancerPeers.has(/ peer=(\S+)/.exec(l)?.[1] ?? ''));
      checks.push(
        check('every datagram echoed', JSON.stringify(echoes) === JSON.stringify([['ping 0a', 'ping 0b'], ['ping 1a', 'ping 1b']]), '2 × 2 echoes', JSON.stringify(echoes)),
        check(
          "the backend logs the balancer's address for every datagram",
          lines.length === 4 && fromBalancer.length === 4,
          `4 lines from ${[...balancerPeers].join(', ')}`,
          `${fromBalancer.length} of ${lines.length} lines from the balancer`,
          lines.join('\n'),
        ),
      );
    } finally {
      // By pid: the micro-VM's busybox has no pkill.
      if (pid > 0) await lab.guest.run(`kill ${pid}`);
    }
    checks.push(await kernelUnhurt(lab, since));
    return checks;
  },
};
