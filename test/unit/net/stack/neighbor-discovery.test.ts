import { afterEach, describe, expect, it } from 'vitest';
import { parseIpv6 } from '../../../../harness/net/codec/address.ts';
import { parseEthernetFrame, serializeEthernetFrame, EtherType } from '../../../../harness/net/codec/ethernet.ts';
import {
  encodeNeighborSolicitation,
  Icmpv6Type,
  isIcmpv6ChecksumValid,
  parseIcmpv6Message,
  parseNeighborAdvertisement,
  parseNeighborSolicitation,
  serializeIcmpv6Message,
  type Icmpv6Message,
} from '../../../../harness/net/codec/icmpv6.ts';
import { ipv6MulticastMac, parseIpv6Packet, serializeIpv6Packet, solicitedNodeAddress } from '../../../../harness/net/codec/ipv6.ts';
import { NetworkHost } from '../../../../harness/net/stack/network-host.ts';
import { NeighborResolutionError } from '../../../../harness/net/stack/neighbor-resolver.ts';
import { createMemoryWirePair, type MemoryWire } from '../../../../harness/net/wire/memory-wire.ts';
import { FAST_ARP, FAST_TIMERS, nextError, until } from '../helpers/lab-pair.ts';
import {
  KERNEL,
  KERNEL_DAD_PROBE_FOR_ITSELF,
  KERNEL_DAD_PROBE_FOR_OURS,
  KERNEL_MLD_REPORT,
  KERNEL_NEIGHBOR_ADVERTISEMENT,
} from '../helpers/kernel-vectors.ts';

/** The host under test is where the kernel's frames were sent: 52:54:00:00:02:02, 2001:db8::2. */
function hostWithRawPeer(): { host: NetworkHost; peer: MemoryWire; received: Uint8Array[] } {
  const [hostWire, peer] = createMemoryWirePair();
  const host = new NetworkHost({
    wire: hostWire,
    mac: KERNEL.peerMac,
    addresses: ['192.0.2.2', KERNEL.peerIpv6],
    arp: FAST_ARP,
    tcp: FAST_TIMERS,
  });
  const received: Uint8Array[] = [];
  peer.onFrame((frame) => received.push(frame));
  return { host, peer, received };
}

/** An ICMPv6 frame from the "guest", built here (the kernel vectors cover what it really sends). */
function icmpv6Frame(options: { source: string; destination: string; destinationMac: string; hopLimit?: number; message: Icmpv6Message }): Uint8Array {
  const body = serializeIcmpv6Message(options.message, parseIpv6(options.source), parseIpv6(options.destination));
  const ip = serializeIpv6Packet({
    trafficClass: 0,
    flowLabel: 0,
    nextHeader: 58,
    hopLimit: options.hopLimit ?? 255,
    source: options.source,
    destination: options.destination,
    payload: body,
  });
  return serializeEthernetFrame({ destination: options.destinationMac, source: KERNEL.mac, etherType: EtherType.ipv6, payload: ip });
}

/** A Neighbor Solicitation from the guest for `target`, to its solicited-node group unless told otherwise. */
const solicitation = (target: string, options: { hopLimit?: number; group?: string; destinationMac?: string } = {}): Uint8Array =>
  icmpv6Frame({
    source: KERNEL.ipv6,
    destination: options.group ?? solicitedNodeAddress(target),
    destinationMac: options.destinationMac ?? ipv6MulticastMac(options.group ?? solicitedNodeAddress(target)),
    ...(options.hopLimit !== undefined && { hopLimit: options.hopLimit }),
    message: { type: Icmpv6Type.neighborSolicitation, code: 0, body: encodeNeighborSolicitation({ target, sourceLinkLayerAddress: KERNEL.mac }) },
  });

function decodeIcmpv6(frame: Uint8Array) {
  const ethernet = parseEthernetFrame(frame);
  const ip = parseIpv6Packet(ethernet.payload);
  const message = parseIcmpv6Message(ip.payload);
  return { ethernet, ip, message, checksumValid: isIcmpv6ChecksumValid(ip.payload, parseIpv6(ip.source), parseIpv6(ip.destination)) };
}

async function settle(): Promise<void> {
  for (let turn = 0; turn < 6; turn++) await new Promise((resolve) => setImmediate(resolve));
}

describe('IPv6 neighbor discovery', () => {
  let host: NetworkHost | undefined;
  afterEach(() => host?.close());

  it('answers a solicitation sent to its solicited-node group with a solicited advertisement', async () => {
    const lab = hostWithRawPeer();
    host = lab.host;
    lab.peer.send(solicitation(KERNEL.peerIpv6));
    await settle();
    expect(lab.received).toHaveLength(1);
    const reply = decodeIcmpv6(lab.received[0]!);
    expect(reply.ethernet).toMatchObject({ destination: KERNEL.mac, source: KERNEL.peerMac, etherType: EtherType.ipv6 });
    expect(reply.ip).toMatchObject({ source: KERNEL.peerIpv6, destination: KERNEL.ipv6, hopLimit: 255 });
    expect(reply.checksumValid).toBe(true);
    expect(reply.message.type).toBe(Icmpv6Type.neighborAdvertisement);
    expect(parseNeighborAdvertisement(reply.message.body)).toEqual({
      router: false,
      solicited: true,
      override: true,
      target: KERNEL.peerIpv6,
      targetLinkLayerAddress: KERNEL.peerMac,
    });
    expect(host.ndp.lookup(KERNEL.ipv6)).toBe(KERNEL.mac); // learned from the solicitation
  });

  it('also answers unicast re-checks (NUD), and nothing for other targets or routed ND', async () => {
    const lab = hostWithRawPeer();
    host = lab.host;
    lab.peer.send(solicitation(KERNEL.peerIpv6, { destinationMac: KERNEL.peerMac })); // unicast MAC, multicast IP: still ours
    lab.peer.send(solicitation('2001:db8::99')); // a group we have not joined: filtered by MAC
    lab.peer.send(solicitation('2001:db8::99', { group: 'ff02::1:ff00:2' })); // our group, not our target
    lab.peer.send(solicitation(KERNEL.peerIpv6, { hopLimit: 64 })); // routed: never valid ND
    await settle();
    expect(lab.received).toHaveLength(1);
    expect(host.stats.dropped['not-for-us']).toBe(2);
    expect(host.ndp.lookup(KERNEL.ipv6)).toBe(KERNEL.mac);
    expect(host.stats.dropped['invalid-neighbor-discovery']).toBe(1);
  });

  it("defends its address against the kernel's DAD probe, on all-nodes", async () => {
    const lab = hostWithRawPeer();
    host = lab.host;
    lab.peer.send(KERNEL_DAD_PROBE_FOR_OURS);
    await settle();
    expect(lab.received).toHaveLength(1);
    const defence = decodeIcmpv6(lab.received[0]!);
    expect(defence.ethernet.destination).toBe('33:33:00:00:00:01');
    expect(defence.ip).toMatchObject({ source: KERNEL.peerIpv6, destination: 'ff02::1', hopLimit: 255 });
    expect(defence.checksumValid).toBe(true);
    expect(parseNeighborAdvertisement(defence.message.body)).toMatchObject({ solicited: false, override: true, target: KERNEL.peerIpv6 });
    expect(host.neighborDiscovery.dadProbesDefended).toBe(1);
    expect(host.ndp.lookup('::')).toBeUndefined(); // nothing learned from a DAD probe
  });

  it("ignores the kernel's own DAD and MLD traffic", async () => {
    const lab = hostWithRawPeer();
    host = lab.host;
    lab.peer.send(KERNEL_DAD_PROBE_FOR_ITSELF);
    lab.peer.send(KERNEL_MLD_REPORT);
    await settle();
    expect(lab.received).toEqual([]);
    expect(host.stats.dropped['not-for-us']).toBe(2);
  });

  it("resolves a neighbour with retried solicitations; the kernel's advertisement answers", async () => {
    const lab = hostWithRawPeer();
    host = lab.host;
    const resolved = host.resolve(KERNEL.ipv6);
    await until(() => lab.received.length >= 2, 1000, 'a retried solicitation'); // first one "lost"
    const asked = decodeIcmpv6(lab.received[0]!);
    expect(asked.ethernet.destination).toBe('33:33:ff:00:00:10');
    expect(asked.ip).toMatchObject({ source: KERNEL.peerIpv6, destination: 'ff02::1:ff00:10', hopLimit: 255 });
    expect(asked.checksumValid).toBe(true);
    expect(parseNeighborSolicitation(asked.message.body)).toEqual({ target: KERNEL.ipv6, sourceLinkLayerAddress: KERNEL.peerMac });
    lab.peer.send(KERNEL_NEIGHBOR_ADVERTISEMENT);
    expect(await resolved).toBe(KERNEL.mac);
  });

  it('gives up after the configured solicitations: TCP fails with EHOSTUNREACH', async () => {
    const lab = hostWithRawPeer();
    host = lab.host;
    const socket = host.connect({ remoteAddress: KERNEL.ipv6, remotePort: 80 });
    const error = await nextError(socket);
    expect(error).toMatchObject({ code: 'EHOSTUNREACH' });
    expect(error.message).toMatch(/no Neighbor Advertisement from 2001:db8::10 after 4 requests/);
    await expect(host.resolve('2001:db8::99')).rejects.toBeInstanceOf(NeighborResolutionError);
    expect(lab.received.every((frame) => frame[0] === 0x33)).toBe(true); // only solicitations went out
  });

  it('never lets an advertisement for one of its own addresses into its table', async () => {
    const lab = hostWithRawPeer();
    host = lab.host;
    const claim = icmpv6Frame({
      source: KERNEL.ipv6,
      destination: 'ff02::1',
      destinationMac: '33:33:00:00:00:01',
      message: {
        type: Icmpv6Type.neighborAdvertisement,
        code: 0,
        body: parseIcmpv6Message(parseIpv6Packet(parseEthernetFrame(KERNEL_NEIGHBOR_ADVERTISEMENT).payload).payload).body.map((b, i) =>
          i >= 4 && i < 20 ? parseIpv6(KERNEL.peerIpv6)[i - 4]! : b,
        ),
      },
    });
    lab.peer.send(claim);
    await settle();
    expect(host.ndp.lookup(KERNEL.peerIpv6)).toBeUndefined();
  });
});
