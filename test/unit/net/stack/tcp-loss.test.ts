import { afterEach, describe, expect, it } from 'vitest';
import { createLabPair, isTcpFrame, randomBytes, readAll, sha256, SERVER_IP, type LabPair } from '../helpers/lab-pair.ts';

const MiB = 1024 * 1024;

/** Both directions carry data, so both directions' recovery is exercised. */
async function exchange(lab: LabPair, size: number): Promise<void> {
  const upstream = randomBytes(size);
  const downstream = randomBytes(size);
  let serverReceived: Promise<Buffer> | undefined;
  lab.server.listen({ port: 80 }, (socket) => {
    serverReceived = readAll(socket);
    socket.end(downstream);
  });
  const socket = lab.client.connect({ remoteAddress: SERVER_IP, remotePort: 80 });
  const clientReceived = readAll(socket);
  socket.end(upstream);
  expect(sha256(await clientReceived)).toBe(sha256(downstream));
  expect(sha256((await serverReceived)!)).toBe(sha256(upstream));
}

describe('TCP loss recovery', () => {
  let lab: LabPair | undefined;
  afterEach(() => lab?.close());

  it('survives 5% random loss both ways (fixed seed), 2 MiB each way', async () => {
    lab = createLabPair({ link: { aToB: { lossRate: 0.05, seed: 7 }, bToA: { lossRate: 0.05, seed: 8 } } });
    await exchange(lab, 2 * MiB);
    expect(lab.clientWire.counters.dropped).toBeGreaterThan(20);
    expect(lab.serverWire.counters.dropped).toBeGreaterThan(20);
  }, 20_000);

  it('retransmits a lost SYN, SYN-ACK and the first data segments', async () => {
    // Drop the first 3 TCP frames each way (ARP gets through): SYN, SYN retransmit, …
    const dropFirstTcp = (count: number): ((frame: Uint8Array) => boolean) => {
      let seen = 0;
      return (frame) => isTcpFrame(frame) && seen++ < count;
    };
    lab = createLabPair({ link: { aToB: { dropFrame: dropFirstTcp(3) }, bToA: { dropFrame: dropFirstTcp(3) } } });
    await exchange(lab, 64 * 1024);
    expect(lab.clientWire.counters.dropped).toBe(3);
    expect(lab.serverWire.counters.dropped).toBe(3);
  });

  it('survives a one-second-style stall (delay) without giving up', async () => {
    // 150 ms one-way delay with a 20 ms minimum RTO: spurious timeouts happen; data must still be exact.
    lab = createLabPair({
      link: { aToB: { delayMs: 150 }, bToA: { delayMs: 150 } },
      arp: { requestIntervalMs: 400 },
    });
    await exchange(lab, 256 * 1024);
  }, 20_000);
});
