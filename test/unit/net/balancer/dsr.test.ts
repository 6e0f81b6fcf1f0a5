import { afterEach, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { DsrBalancer } from '../../../../harness/net/balancer/dsr.ts';
import { probeVipArp } from '../../../../harness/net/balancer/vip-arp-probe.ts';
import { ArpOperation, parseArpPacket } from '../../../../harness/net/codec/arp.ts';
import { EtherType, parseEthernetFrame } from '../../../../harness/net/codec/ethernet.ts';
import { NetworkHost } from '../../../../harness/net/stack/network-host.ts';
import { NeighborResolutionError } from '../../../../harness/net/stack/neighbor-resolver.ts';
import { createFrameRecorder } from '../../../../harness/net/wire/frame-tap.ts';
import { createMemoryWirePair, type MemoryWire } from '../../../../harness/net/wire/memory-wire.ts';
import { CLIENT_IP, CLIENT_MAC, decodeTcpFrame, FAST_ARP, FAST_TIMERS, SERVER_IP, SERVER_MAC, until } from '../helpers/lab-pair.ts';

const VIP = '192.0.2.100';

/**
 * Stands in for a DSR backend: its own address plus the VIP (as if on `lo`), answering with the
 * peer and local address its socket sees. Userspace hosts reach any address on-link, so it ARPs
 * for each client — the on-link route case.
 */
function startBackend(wire: MemoryWire, addresses = [SERVER_IP, VIP]): NetworkHost {
  const host = new NetworkHost({ wire, mac: SERVER_MAC, addresses, tcp: FAST_TIMERS, arp: FAST_ARP });
  host.listen({ port: 80 }, (socket) => {
    socket.on('error', () => {});
    socket.once('data', () => socket.end(`peer=${socket.remoteAddress}:${socket.remotePort} local=${socket.localAddress}:${socket.localPort}`));
  });
  return host;
}

function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => {
      socket.end();
      resolve(Buffer.concat(chunks).toString());
    });
    socket.on('error', reject);
    socket.write('GET / HTTP/1.0\r\n\r\n');
  });
}

describe('DSR balancer', () => {
  let balancer: DsrBalancer | undefined;
  let backend: NetworkHost | undefined;
  afterEach(async () => {
    await balancer?.close();
    backend?.close();
    balancer = undefined;
  });

  it("plays each simulated client end to end: the backend sees it, answering from the VIP", async () => {
    const [balancerWire, backendWire] = createMemoryWirePair();
    backend = startBackend(backendWire);
    const recorder = createFrameRecorder();
    balancer = await DsrBalancer.start({ wire: balancerWire, tcp: FAST_TIMERS, arp: FAST_ARP, tap: recorder.tap });
    const replies = await Promise.all([get(balancer.port), get(balancer.port), get(balancer.port)]);
    expect(replies.sort()).toEqual([
      'peer=198.51.100.1:40001 local=192.0.2.100:80',
      'peer=198.51.100.2:40002 local=192.0.2.100:80',
      'peer=198.51.100.3:40003 local=192.0.2.100:80',
    ]);
    await until(() => balancer!.records.every((r) => r.outcome !== 'open'), 2000, 'records to close');
    expect(balancer.records.map((r) => ({ ...r.simulatedClient, outcome: r.outcome, mac: r.backend.mac, vip: r.vip.address }))).toEqual(
      [1, 2, 3].map((n) => ({ address: `198.51.100.${n}`, port: 40000 + n, outcome: 'closed', mac: SERVER_MAC, vip: VIP })),
    );

    const out = recorder.frames.filter((f) => f.direction === 'out').map((f) => f.frame);
    const tcpOut = out.map((frame) => ({ ethernet: parseEthernetFrame(frame), tcp: decodeTcpFrame(frame) })).filter((f) => f.tcp);
    expect(tcpOut.length).toBeGreaterThan(0);
    // Every client frame went to the backend's MAC with the VIP still the destination…
    expect(tcpOut.every((f) => f.ethernet.destination === SERVER_MAC && f.tcp!.ip.destination === VIP)).toBe(true);
    // …and the only ARP question the balancer asked was for the backend's own address, from its own.
    const asked = out.filter((frame) => parseEthernetFrame(frame).etherType === EtherType.arp).map((frame) => parseArpPacket(parseEthernetFrame(frame).payload));
    const requests = asked.filter((p) => p.operation === ArpOperation.request);
    expect(requests.map((p) => [p.senderIp, p.targetIp])).toEqual([[CLIENT_IP, SERVER_IP]]);
    // The backend asked for the clients (on-link) and the balancer's host answered for them.
    const answered = asked.filter((p) => p.operation === ArpOperation.reply).map((p) => p.senderIp);
    expect(answered.sort()).toEqual(['198.51.100.1', '198.51.100.2', '198.51.100.3']);
  });

  it('on a shared host, takes the client addresses on only while it runs', async () => {
    const [balancerWire, backendWire] = createMemoryWirePair();
    backend = startBackend(backendWire);
    const host = new NetworkHost({ wire: balancerWire, mac: CLIENT_MAC, addresses: [CLIENT_IP], tcp: FAST_TIMERS, arp: FAST_ARP });
    balancer = await DsrBalancer.start({ host, chooseClient: () => ({ address: '203.0.113.9', port: 41000 }) });
    expect(await get(balancer.port)).toBe('peer=203.0.113.9:41000 local=192.0.2.100:80');
    expect(host.hasAddress('203.0.113.9')).toBe(true);
    await balancer.close();
    balancer = undefined;
    expect(host.addresses).toEqual([CLIENT_IP]);
    host.close();
  });

  it('fails to start, clearly, when the backend does not answer ARP; refuses VIP = backend', async () => {
    const [balancerWire] = createMemoryWirePair();
    await expect(DsrBalancer.start({ wire: balancerWire, arp: FAST_ARP })).rejects.toBeInstanceOf(NeighborResolutionError);
    await expect(DsrBalancer.start({ wire: balancerWire, backendAddress: VIP })).rejects.toThrow(/must differ from the VIP/);
  });
});

describe('ARP-for-VIP probe', () => {
  let backend: NetworkHost | undefined;
  let host: NetworkHost | undefined;
  afterEach(() => {
    backend?.close();
    host?.close();
  });

  for (const [label, addresses, answered] of [
    ['answers for the VIP (arp_ignore=0)', [SERVER_IP, VIP], true],
    ['keeps quiet about it (arp_ignore=1)', [SERVER_IP], false],
  ] as const) {
    it(`reports a backend that ${label}`, async () => {
      const [hostWire, backendWire] = createMemoryWirePair();
      backend = new NetworkHost({ wire: backendWire, mac: SERVER_MAC, addresses: [...addresses] });
      host = new NetworkHost({ wire: hostWire, mac: CLIENT_MAC, addresses: [CLIENT_IP] });
      const result = await probeVipArp(host, VIP, { requests: 2, intervalMs: 10, listenMs: 60 });
      expect(result).toMatchObject({ vip: VIP, answered, requestsSent: 2, announcements: [] });
      expect(result.replies).toHaveLength(answered ? 2 : 0);
      if (answered) expect(result.replies[0]).toMatchObject({ operation: 'reply', senderIp: VIP, senderMac: SERVER_MAC, targetIp: CLIENT_IP });
      expect(result.listenedMs).toBeGreaterThanOrEqual(55);
    });
  }

  it('records the guest announcing the VIP in its own requests (what arp_announce=2 stops)', async () => {
    const [hostWire, backendWire] = createMemoryWirePair();
    backend = new NetworkHost({ wire: backendWire, mac: SERVER_MAC, addresses: [SERVER_IP, VIP] });
    host = new NetworkHost({ wire: hostWire, mac: CLIENT_MAC, addresses: [CLIENT_IP] });
    const probe = probeVipArp(host, VIP, { requests: 1, listenMs: 60 });
    void backend.resolve(CLIENT_IP, VIP); // "who has 192.0.2.2, tell 192.0.2.100"
    const result = await probe;
    expect(result.announcements).toEqual([expect.objectContaining({ operation: 'request', senderIp: VIP, targetIp: CLIENT_IP })]);
  });
});
