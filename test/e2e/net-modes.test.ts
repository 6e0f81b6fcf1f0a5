import { createSocket, type Socket as DgramSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendLogRecord } from '../../harness/checks/backend-log.ts';
import { httpRequest } from '../../harness/client/http-client.ts';
import { BackendServer } from '../../harness/guest/backend-server.ts';
import type { KernelLogMark } from '../../harness/lab/data-path-lab.ts';
import { MicroLab } from '../../harness/lab/micro-lab.ts';
import { withToaModule, withoutToaModule } from '../../harness/lab/toa-state.ts';
import { RunSession } from '../../harness/lifecycle/run-session.ts';
import {
  createSimulatedClientCycle,
  DsrBalancer,
  FullNatBalancer,
  probeVipArp,
  UdpBalancer,
  type SimulatedClient,
} from '../../harness/net/index.ts';

/**
 * The network modes the conformance scenarios build on, proven against a real Debian 6.1
 * kernel in one micro-VM: IPv6 FULLNAT with toa.ko, an IPv4 client on a dual-stack listener,
 * DSR with the VIP on the guest's loopback, the ARP-for-VIP probe, and UDP through FULLNAT.
 * Every verdict is read from the guest's own logs.
 */
const BALANCER_V6 = '2001:db8::2';
const GUEST_V6 = '2001:db8::10';
const VIP = '192.0.2.100';

/** What the guest needs for IPv6 on the lab wire (busybox `ip` has no `nodad`: DAD is switched off instead). */
const ENABLE_GUEST_IPV6 = [
  'echo 0 > /proc/sys/net/ipv6/conf/eth0/accept_dad',
  'echo 0 > /proc/sys/net/ipv6/conf/eth0/disable_ipv6',
  `ip -6 addr add ${GUEST_V6}/64 dev eth0`,
].join(' && ');

describe('network modes on the micro-VM (real Debian 6.1 kernel)', () => {
  let session: RunSession;
  let lab: MicroLab;
  let since: KernelLogMark;

  beforeAll(async () => {
    session = await RunSession.open();
    lab = await MicroLab.start(session, { log: (line) => console.log(line) });
    lab.host.addAddress(BALANCER_V6);
    await lab.guest.check(ENABLE_GUEST_IPV6);
    since = await lab.markKernelLog();
  });

  afterAll(async () => {
    if (lab) expect(await lab.kernelFaultsSince(since)).toEqual([]);
    await session?.close();
  });

  it('IPv6 FULLNAT: toa.ko reports the IPv6 client from the 20-byte option, and an IPv4 one as ::ffff:a.b.c.d', async () => {
    expect((await withToaModule(lab, {})).passed).toBe(true);
    const backend = await BackendServer.start(lab.guest, { port: 81, family: '6', logFile: '/var/log/v6.log' });

    const v6 = await relay(lab, { backend: { address: GUEST_V6, port: 81 }, chooseClient: createSimulatedClientCycle({ family: 6 }) }, backend);
    expect(v6.records.every((r) => r.balancer.address === BALANCER_V6)).toBe(true);
    expect(peers(v6.log)).toEqual(endpoints(v6.clients));
    expect(accepts(v6.log)).toEqual(endpoints(v6.clients));
    expect(v6.log.every((line) => line.local.ip === GUEST_V6)).toBe(true);

    // The scenario may also carry an IPv4 client over IPv6: the module shows it v4-mapped.
    const mixed = await relay(lab, { backend: { address: GUEST_V6, port: 81 } }, backend);
    expect(peers(mixed.log)).toEqual(endpoints(mixed.clients.map((c) => ({ ...c, address: `::ffff:${c.address}` }))));
  });

  it("defends the balancer's IPv6 address: the guest's DAD probe for it fails", async () => {
    // The probe goes to ff02::1:ff00:2 at 33:33:ff:00:00:02; the host answers on all-nodes.
    const defendedBefore = lab.host.neighborDiscovery.dadProbesDefended;
    await lab.guest.check(`echo 1 > /proc/sys/net/ipv6/conf/eth0/accept_dad && ip -6 addr add ${BALANCER_V6}/64 dev eth0`);
    try {
      const state = await lab.guest.check(
        `for i in $(seq 50); do ip -6 addr show dev eth0 | grep -q 'dadfailed' && break; sleep 0.1; done; ip -6 addr show dev eth0`,
        { timeoutMs: 15_000 },
      );
      expect(state.stdout).toMatch(new RegExp(`inet6 ${BALANCER_V6}/64 .*dadfailed`));
      expect(lab.host.neighborDiscovery.dadProbesDefended).toBeGreaterThan(defendedBefore);
    } finally {
      await lab.guest.check(`ip -6 addr del ${BALANCER_V6}/64 dev eth0; echo 0 > /proc/sys/net/ipv6/conf/eth0/accept_dad`);
    }
  });

  it('IPv4 FULLNAT to a dual-stack listener: the log shows [::ffff:198.51.100.x]', async () => {
    expect((await withToaModule(lab, {})).passed).toBe(true);
    const backend = await BackendServer.start(lab.guest, { port: 82, family: 'dual', logFile: '/var/log/dual.log' });
    const round = await relay(lab, { backend: { address: lab.vm.guestAddress, port: 82 } }, backend);
    expect(round.log.map((line) => line.raw)).toEqual(
      expect.arrayContaining(round.clients.map((c) => expect.stringContaining(`peer=[::ffff:${c.address}]:${c.port}`))),
    );
    expect(peers(round.log)).toEqual(endpoints(round.clients.map((c) => ({ ...c, address: `::ffff:${c.address}` }))));
  });

  it('DSR: the backend (VIP on lo, no toa.ko) logs each simulated client, routed back or on-link', async () => {
    expect((await withoutToaModule(lab)).passed).toBe(true);
    await lab.guest.check(`ip addr add ${VIP}/32 dev lo`);
    for (const routes of [
      // Via the balancer's address, which the harness's host answers ARP for…
      [`ip route add 198.51.100.0/24 via ${lab.balancerAddress}`, `ip route add 203.0.113.0/24 via ${lab.balancerAddress}`],
      // …or on-link, where the guest ARPs for each client address and the host answers for it.
      ['ip route add 198.51.100.0/24 dev eth0', 'ip route add 203.0.113.0/24 dev eth0'],
    ]) {
      await lab.guest.check(routes.join(' && '));
      await lab.backend.clearLog();
      const balancer = await DsrBalancer.start({ host: lab.host, vip: { address: VIP, port: lab.backend.port }, backendAddress: lab.vm.guestAddress });
      try {
        expect(balancer.backendMac).toBe(lab.vm.guestMac);
        const exchanges = await Promise.all([0, 1, 2].map(() => httpRequest({ port: balancer.port, timeoutMs: 30_000 })));
        expect(exchanges.map((e) => e.status)).toEqual([200, 200, 200]);
      } finally {
        await balancer.close();
      }
      const log = await lab.backend.records();
      const clients = balancer.records.map((r) => r.simulatedClient);
      expect(peers(log)).toEqual(endpoints(clients));
      expect(log.every((line) => line.local.ip === VIP && line.local.port === lab.backend.port)).toBe(true);
      expect(balancer.records.every((r) => r.outcome === 'closed' && r.backend.mac === lab.vm.guestMac)).toBe(true);
      expect(lab.host.hasAddress(clients[0]!.address)).toBe(false); // given back on close
      await lab.guest.check(routes.map((r) => r.replace('ip route add', 'ip route del')).join(' && '));
    }
  });

  it('ARP for the VIP: answered by default, silent with arp_ignore=1 / arp_announce=2', async () => {
    await lab.guest.run(`ip addr add ${VIP}/32 dev lo 2>/dev/null`);
    const loud = await probeVipArp(lab.host, VIP);
    expect(loud.answered).toBe(true);
    expect(loud.replies[0]).toMatchObject({ operation: 'reply', senderIp: VIP, senderMac: lab.vm.guestMac });

    const sysctls = (value: [number, number]): string =>
      ['all', 'eth0']
        .flatMap((nic) => [
          `echo ${value[0]} > /proc/sys/net/ipv4/conf/${nic}/arp_ignore`,
          `echo ${value[1]} > /proc/sys/net/ipv4/conf/${nic}/arp_announce`,
        ])
        .join(' && ');
    await lab.guest.check(sysctls([1, 2]));
    try {
      const quiet = await probeVipArp(lab.host, VIP);
      expect(quiet).toMatchObject({ answered: false, replies: [], requestsSent: 3 });
    } finally {
      await lab.guest.check(sysctls([0, 0]));
    }
  });

  it('UDP through UdpBalancer: echoed both ways, and the backend logs the balancer (no TOA for UDP)', async () => {
    for (const [family, address, port] of [['4', lab.vm.guestAddress, 5300], ['6', GUEST_V6, 5301]] as const) {
      const logFile = `/var/log/udp-${port}.log`;
      await lab.guest.check(`toa-backend --udp ${port} --family ${family} --log ${logFile} </dev/null >/dev/null 2>/tmp/udp-${port}.err &`);
      await lab.guest.check(`for i in $(seq 50); do grep -q 'listening' /tmp/udp-${port}.err && exit 0; sleep 0.1; done; exit 1`);
      const balancer = await UdpBalancer.start({ host: lab.host, backend: { address, port } });
      const clients = [createSocket('udp4'), createSocket('udp4')];
      try {
        const echoes = await Promise.all(clients.map((client, i) => echo(client, balancer.port, [`ping ${i}a`, `ping ${i}b`])));
        expect(echoes).toEqual([['ping 0a', 'ping 0b'], ['ping 1a', 'ping 1b']]);
      } finally {
        for (const client of clients) client.close();
        await balancer.close();
      }
      const lines = (await lab.guest.check(`cat ${logFile}`)).stdout.trim().split('\n');
      const expected = balancer.records.flatMap((r) => {
        const peer = family === '4' ? `${r.balancer.address}:${r.balancer.port}` : `[${r.balancer.address}]:${r.balancer.port}`;
        const local = family === '4' ? `${address}:${port}` : `[${address}]:${port}`;
        return [`udp peer=${peer} local=${local} bytes=7`, `udp peer=${peer} local=${local} bytes=7`];
      });
      expect(lines.sort()).toEqual(expected.sort());
      expect(balancer.records.map((r) => [r.datagramsToBackend, r.datagramsFromBackend])).toEqual([[2, 2], [2, 2]]);
    }
  });
});

interface Round {
  records: FullNatBalancer['records'];
  clients: SimulatedClient[];
  log: BackendLogRecord[];
}

/** Three concurrent GETs through a fresh FULLNAT balancer on the lab's host, then the backend's log. */
async function relay(
  lab: MicroLab,
  options: { backend: { address: string; port: number }; chooseClient?: (index: number) => SimulatedClient },
  backend: BackendServer,
): Promise<Round> {
  await backend.clearLog();
  const balancer = await FullNatBalancer.start({ host: lab.host, backend: options.backend, ...(options.chooseClient && { chooseClient: options.chooseClient }) });
  try {
    const exchanges = await Promise.all([0, 1, 2].map(() => httpRequest({ port: balancer.port, timeoutMs: 30_000 })));
    expect(exchanges.map((e) => e.status)).toEqual([200, 200, 200]);
  } finally {
    await balancer.close();
  }
  return { records: balancer.records, clients: balancer.records.map((r) => r.injectedClient!), log: await backend.records() };
}

const endpoints = (clients: SimulatedClient[]): string[] => clients.map((c) => `${c.address}|${c.port}`).sort();
const peers = (log: BackendLogRecord[]): string[] => log.map((l) => `${l.peer.ip}|${l.peer.port}`).sort();
const accepts = (log: BackendLogRecord[]): string[] => log.map((l) => `${l.accept.ip}|${l.accept.port}`).sort();

/** Sends each message from `client` and collects the echoes, in order. */
function echo(client: DgramSocket, port: number, messages: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const received: string[] = [];
    const timer = setTimeout(() => reject(new Error(`UDP echo: got ${received.length} of ${messages.length}`)), 15_000);
    client.on('message', (data) => {
      received.push(data.toString());
      if (received.length === messages.length) {
        clearTimeout(timer);
        resolve(received);
      }
    });
    for (const message of messages) client.send(message, port, '127.0.0.1');
  });
}

