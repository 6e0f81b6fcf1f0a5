import { afterEach, describe, expect, it } from 'vitest';
import { ArpOperation, parseArpPacket, serializeArpPacket } from '../../../../harness/net/codec/arp.ts';
import { EtherType, parseEthernetFrame, serializeEthernetFrame } from '../../../../harness/net/codec/ethernet.ts';
import { IpProtocol, parseIpv4Packet, serializeIpv4Packet } from '../../../../harness/net/codec/ipv4.ts';
import { internetChecksum } from '../../../../harness/net/codec/checksum.ts';
import { parseIpv4 } from '../../../../harness/net/codec/address.ts';
import { parseTcpSegment, serializeTcpSegment, tcpFlags, type TcpSegment } from '../../../../harness/net/codec/tcp.ts';
import { serializeUdpDatagram } from '../../../../harness/net/codec/udp.ts';
import { NetworkHost } from '../../../../harness/net/stack/network-host.ts';
import { createMemoryWirePair, type MemoryWire } from '../../../../harness/net/wire/memory-wire.ts';
import { FAST_ARP, until } from '../helpers/lab-pair.ts';

const HOST_MAC = '52:54:00:00:02:02';
const HOST_IP = '192.0.2.2';
const GUEST_MAC = '52:54:00:12:34:56';
const GUEST_IP = '192.0.2.10';

/** A host on one end; the test plays the guest on the other end with hand-built frames. */
function hostWithRawPeer(): { host: NetworkHost; peer: MemoryWire; received: Uint8Array[] } {
  const [hostWire, peer] = createMemoryWirePair();
  const host = new NetworkHost({ wire: hostWire, mac: HOST_MAC, addresses: [HOST_IP, '192.0.2.3'], arp: FAST_ARP });
  const received: Uint8Array[] = [];
  peer.onFrame((frame) => received.push(frame));
  return { host, peer, received };
}

function arpRequest(targetIp: string, destination = 'ff:ff:ff:ff:ff:ff'): Uint8Array {
  return serializeEthernetFrame({
    destination,
    source: GUEST_MAC,
    etherType: EtherType.arp,
    payload: serializeArpPacket({
      operation: ArpOperation.request,
      senderMac: GUEST_MAC,
      senderIp: GUEST_IP,
      targetMac: '00:00:00:00:00:00',
      targetIp,
    }),
  });
}

function ipv4Frame(protocol: number, payload: Uint8Array, destination = HOST_IP): Uint8Array {
  return serializeEthernetFrame({
    destination: HOST_MAC,
    source: GUEST_MAC,
    etherType: EtherType.ipv4,
    payload: serializeIpv4Packet({
      typeOfService: 0,
      identification: 1,
      dontFragment: true,
      moreFragments: false,
      reservedFlag: false,
      fragmentOffset: 0,
      ttl: 64,
      protocol,
      source: GUEST_IP,
      destination,
      options: new Uint8Array(0),
      payload,
    }),
  });
}

function tcpFrame(segment: Partial<TcpSegment>): Uint8Array {
  const full: TcpSegment = {
    sourcePort: 80,
    destinationPort: 50000,
    sequenceNumber: 1000,
    acknowledgmentNumber: 2000,
    flags: tcpFlags('ack'),
    reservedBits: 0,
    window: 1000,
    urgentPointer: 0,
    options: [],
    payload: new Uint8Array(0),
    ...segment,
  };
  return ipv4Frame(IpProtocol.tcp, serializeTcpSegment(full, parseIpv4(GUEST_IP), parseIpv4(HOST_IP)));
}

/** Lets frames cross the memory wire and back (each hop is one setImmediate turn). */
async function settle(): Promise<void> {
  for (let turn = 0; turn < 6; turn++) await new Promise((resolve) => setImmediate(resolve));
}

describe('network host', () => {
  let host: NetworkHost | undefined;
  afterEach(() => host?.close());

  it('answers every ARP request for each of its addresses, and only those', async () => {
    const lab = hostWithRawPeer();
    host = lab.host;
    // The guest re-checks (often unicast) every few seconds: every one must be answered.
    lab.peer.send(arpRequest(HOST_IP));
    lab.peer.send(arpRequest(HOST_IP, HOST_MAC));
    lab.peer.send(arpRequest('192.0.2.3'));
    lab.peer.send(arpRequest('192.0.2.99'));
    await settle();
    const replies = lab.received.map((frame) => parseEthernetFrame(frame));
    expect(replies.map((r) => r.destination)).toEqual([GUEST_MAC, GUEST_MAC, GUEST_MAC]);
    expect(replies.map((r) => parseArpPacket(r.payload))).toEqual(
      [HOST_IP, HOST_IP, '192.0.2.3'].map((senderIp) => ({
        operation: ArpOperation.reply,
        senderMac: HOST_MAC,
        senderIp,
        targetMac: GUEST_MAC,
        targetIp: GUEST_IP,
      })),
    );
    expect(lab.received[0]!.length).toBe(42); // no padding, as QEMU would carry it
    expect(host.arp.lookup(GUEST_IP)).toBe(GUEST_MAC); // learned from the request
  });

  it('resolves a peer with retried ARP requests', async () => {
    const lab = hostWithRawPeer();
    host = lab.host;
    const resolved = host.resolve(GUEST_IP);
    await until(() => lab.received.length >= 2, 1000, 'a retried request'); // first one "lost"
    const reply = serializeEthernetFrame({
      destination: HOST_MAC,
      source: GUEST_MAC,
      etherType: EtherType.arp,
      payload: serializeArpPacket({
        operation: ArpOperation.reply,
        senderMac: GUEST_MAC,
        senderIp: GUEST_IP,
        targetMac: HOST_MAC,
        targetIp: HOST_IP,
      }),
    });
    lab.peer.send(reply);
    expect(await resolved).toBe(GUEST_MAC);
    expect(parseArpPacket(parseEthernetFrame(lab.received[0]!).payload)).toMatchObject({ operation: 1, targetIp: GUEST_IP });
  });

  it('answers ping', async () => {
    const lab = hostWithRawPeer();
    host = lab.host;
    lab.peer.send(arpRequest(HOST_IP)); // so the host knows our MAC
    const echo = Uint8Array.of(8, 0, 0, 0, 0x12, 0x34, 0, 1, 0xde, 0xad);
    const checksum = internetChecksum(echo);
    echo[2] = checksum >> 8;
    echo[3] = checksum & 0xff;
    lab.peer.send(ipv4Frame(IpProtocol.icmp, echo));
    await settle();
    const reply = parseIpv4Packet(parseEthernetFrame(lab.received.at(-1)!).payload);
    expect(reply.destination).toBe(GUEST_IP);
    expect(reply.payload[0]).toBe(0); // echo reply
    expect([...reply.payload.subarray(4)]).toEqual([0x12, 0x34, 0, 1, 0xde, 0xad]);
    expect(internetChecksum(reply.payload)).toBe(0);
  });

  it('answers a segment for no connection with RST (RFC 9293 §3.10.7.1)', async () => {
    const lab = hostWithRawPeer();
    host = lab.host;
    lab.peer.send(arpRequest(HOST_IP));
    lab.peer.send(tcpFrame({ flags: tcpFlags('ack'), acknowledgmentNumber: 2000 }));
    lab.peer.send(tcpFrame({ flags: tcpFlags('syn'), sequenceNumber: 5000 }));
    lab.peer.send(tcpFrame({ flags: tcpFlags('rst') })); // never answered
    await settle();
    const resets = lab.received.slice(1).map((frame) => parseTcpSegment(parseIpv4Packet(parseEthernetFrame(frame).payload).payload));
    expect(resets.length).toBe(2);
    expect(resets[0]).toMatchObject({ flags: tcpFlags('rst'), sequenceNumber: 2000 });
    expect(resets[1]).toMatchObject({ flags: tcpFlags('rst', 'ack'), sequenceNumber: 0, acknowledgmentNumber: 5001 });
  });

  it('drops and counts what it cannot use', async () => {
    const lab = hostWithRawPeer();
    host = lab.host;
    const badTcp = tcpFrame({});
    badTcp[badTcp.length - 1] = badTcp.at(-1)! ^ 0xff; // breaks the TCP checksum
    const badIp = tcpFrame({});
    badIp[14 + 8] = 1; // TTL changed: IP header checksum no longer matches
    lab.peer.send(badTcp);
    lab.peer.send(badIp);
    lab.peer.send(tcpFrame({}).subarray(0, 30)); // truncated
    lab.peer.send(ipv4Frame(IpProtocol.tcp, new Uint8Array(20), '192.0.2.50'));
    lab.peer.send(ipv4Frame(47, new Uint8Array(8))); // GRE
    const udpToClosedPort = serializeUdpDatagram({ sourcePort: 5000, destinationPort: 9999, payload: new Uint8Array(4) }, parseIpv4(GUEST_IP), parseIpv4(HOST_IP));
    lab.peer.send(ipv4Frame(IpProtocol.udp, udpToClosedPort));
    lab.peer.send(serializeEthernetFrame({ destination: HOST_MAC, source: GUEST_MAC, etherType: EtherType.ipv6, payload: new Uint8Array(40) })); // version 0
    lab.peer.send(serializeEthernetFrame({ destination: HOST_MAC, source: GUEST_MAC, etherType: 0x88cc, payload: new Uint8Array(40) })); // LLDP
    lab.peer.send(serializeEthernetFrame({ destination: '52:54:00:99:99:99', source: GUEST_MAC, etherType: EtherType.ipv4, payload: new Uint8Array(40) }));
    await settle();
    expect(host.stats.dropped).toEqual({
      malformed: 2,
      'not-for-us': 2,
      'unsupported-ethertype': 1,
      'bad-ip-checksum': 1,
      'bad-tcp-checksum': 1,
      'bad-udp-checksum': 0,
      'bad-icmpv6-checksum': 0,
      'invalid-neighbor-discovery': 0,
      'ip-fragment': 0,
      'unsupported-protocol': 1,
      'udp-port-closed': 1,
    });
    expect(lab.received).toEqual([]);
  });
});
