import { afterEach, describe, expect, it } from 'vitest';
import { createSocket, type Socket as DgramSocket } from 'node:dgram';
import { once } from 'node:events';
import { UdpBalancer } from '../../../../harness/net/balancer/udp.ts';
import { NetworkHost } from '../../../../harness/net/stack/network-host.ts';
import { createMemoryWirePair } from '../../../../harness/net/wire/memory-wire.ts';
import { FAST_ARP, SERVER_IP, SERVER_IP6, SERVER_MAC, until } from '../helpers/lab-pair.ts';

/** A userspace UDP echo backend on :5300 that says who it heard from — what toa-backend --udp logs. */
function startEchoBackend(wire: ReturnType<typeof createMemoryWirePair>[1]): NetworkHost {
  const host = new NetworkHost({ wire, mac: SERVER_MAC, addresses: [SERVER_IP, SERVER_IP6], arp: FAST_ARP });
  const socket = host.bindUdp({ port: 5300 });
  socket.on('message', (data, from) => socket.send(Buffer.from(`${data} from ${from.address}:${from.port}`), from.port, from.address));
  return host;
}

async function exchange(client: DgramSocket, port: number, text: string): Promise<string> {
  const reply = once(client, 'message');
  client.send(text, port, '127.0.0.1');
  return String((await reply)[0]);
}

describe('UDP balancer', () => {
  let balancer: UdpBalancer | undefined;
  let backend: NetworkHost | undefined;
  const clients: DgramSocket[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await balancer?.close();
    backend?.close();
  });

  const client = (): DgramSocket => {
    const socket = createSocket('udp4');
    clients.push(socket);
    return socket;
  };

  for (const backendAddress of [SERVER_IP, SERVER_IP6]) {
    it(`relays each client through a port of its own to ${backendAddress}: the backend sees only the balancer`, async () => {
      const [balancerWire, backendWire] = createMemoryWirePair();
      backend = startEchoBackend(backendWire);
      balancer = await UdpBalancer.start({ wire: balancerWire, arp: FAST_ARP, backend: { address: backendAddress, port: 5300 } });
      const [a, b] = [client(), client()];
      const first = await exchange(a, balancer.port, 'a1');
      expect(await exchange(a, balancer.port, 'a2')).toBe(first.replace('a1', 'a2')); // same session, same port
      const other = await exchange(b, balancer.port, 'b1');
      const balancerAddress = backendAddress === SERVER_IP ? '192.0.2.2' : '2001:db8::2';
      expect(first).toMatch(new RegExp(`^a1 from ${balancerAddress}:\\d+$`));
      expect(other).toMatch(new RegExp(`^b1 from ${balancerAddress}:\\d+$`));
      expect(other).not.toBe(first.replace('a1', 'b1'));
      expect(balancer.records.map((r) => [r.balancer.address, r.datagramsToBackend, r.datagramsFromBackend, r.outcome])).toEqual([
        [balancerAddress, 2, 2, 'open'],
        [balancerAddress, 1, 1, 'open'],
      ]);
      expect(first.endsWith(`:${balancer.records[0]!.balancer.port}`)).toBe(true);
    });
  }

  it('forgets an idle session, and ends the rest on close', async () => {
    const [balancerWire, backendWire] = createMemoryWirePair();
    backend = startEchoBackend(backendWire);
    balancer = await UdpBalancer.start({ wire: balancerWire, arp: FAST_ARP, backend: { address: SERVER_IP, port: 5300 }, idleTimeoutMs: 40 });
    const socket = client();
    await exchange(socket, balancer.port, 'x');
    await until(() => balancer!.records[0]!.outcome === 'idle-timeout', 2000, 'the idle timeout');
    await exchange(socket, balancer.port, 'y'); // a new session
    expect(balancer.records).toHaveLength(2);
    await balancer.close();
    expect(balancer.records[1]!.outcome).toBe('balancer-closed');
    balancer = undefined;
  });

  it('counts a datagram too big for the MTU instead of sending it', async () => {
    const [balancerWire, backendWire] = createMemoryWirePair();
    backend = startEchoBackend(backendWire);
    balancer = await UdpBalancer.start({ wire: balancerWire, arp: FAST_ARP, backend: { address: SERVER_IP, port: 5300 } });
    const socket = client();
    socket.send(Buffer.alloc(2000), balancer.port, '127.0.0.1');
    await until(() => balancer!.records[0]?.datagramsDropped === 1, 2000, 'the drop');
    expect(balancer.records[0]!.error).toMatch(/does not fit the 1500-byte MTU/);
  });
});
