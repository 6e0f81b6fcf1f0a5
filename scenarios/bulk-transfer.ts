import { fnv1a64 } from '../harness/client/fnv1a.ts';
import { httpRequest } from '../harness/client/http-client.ts';
import type { DataPathLab } from '../harness/lab/data-path-lab.ts';
import { kernelUnhurt, withToaModule } from '../harness/lab/toa-state.ts';
import { check, type Check, type Scenario } from '../harness/core/scenario.ts';

const SIZE = 10 * 1024 * 1024;

/**
 * 10 MiB each way through the balancer and a TOA socket: the guest's own
 * hash of what it received, and ours of what came back, must both match what
 * was sent. Exercises window, MSS, retransmission and the relay under load.
 */
export const bulkTransfer: Scenario<DataPathLab> = {
  id: 'bulk-transfer',
  title: '10 MiB request and 10 MiB response through the balancer arrive byte-identical',
  setup: 'toa.ko loaded; toa-backend listening on :80',
  sends: 'POST /echo with a 10 MiB pseudo-random body through the FULLNAT balancer (TOA in the handshake ACK)',
  passesWhen: "the backend logs 10 MiB received with the FNV-1a hash of the body we sent, the echoed 10 MiB we receive hashes the same, and the log names the injected client",
  mechanism: 'toa',
  async run(lab) {
    const since = await lab.markKernelLog();
    const checks: Check[] = [await withToaModule(lab, {})];
    await lab.backend.clearLog();
    const body = pseudoRandomBytes(SIZE, 0x70a);
    const sentFnv = fnv1a64(body);
    const balancer = await lab.startBalancer({ toa: { kind: lab.toaKind, placement: ['ack'] } });
    try {
      const started = Date.now();
      const response = await httpRequest({ port: balancer.port, method: 'POST', path: '/echo', body, timeoutMs: 240_000 });
      const seconds = (Date.now() - started) / 1000;
      const receivedFnv = fnv1a64(response.body);
      const [line] = await lab.backend.records();
      const injected = balancer.records[0]?.injectedClient;
      checks.push(
        check(
          'the guest received the 10 MiB request intact',
          line?.requestBytes === SIZE && line.requestFnv === sentFnv,
          `req_bytes=${SIZE} req_fnv=${sentFnv}`,
          line ? `req_bytes=${line.requestBytes} req_fnv=${line.requestFnv}` : 'no log line',
          line?.raw,
        ),
        check(
          'the 10 MiB response arrived intact',
          response.status === 200 && response.body.length === SIZE && receivedFnv === sentFnv && line?.responseFnv === sentFnv,
          `200, ${SIZE} bytes, fnv ${sentFnv} (guest and client)`,
          `${response.status}, ${response.body.length} bytes, fnv ${receivedFnv} (guest ${line?.responseFnv}); ${(2 * SIZE / 1048576 / seconds).toFixed(1)} MiB/s both ways`,
        ),
        check(
          'the bulk connection still shows the injected client',
          !!line && !!injected && line.peer.ip === injected.address && line.peer.port === injected.port,
          injected ? `${injected.address}:${injected.port}` : 'an injected client',
          line ? `${line.peer.ip}:${line.peer.port}` : 'no log line',
        ),
      );
    } finally {
      await balancer.close();
    }
    checks.push(await kernelUnhurt(lab, since));
    return checks;
  },
};

/** xorshift32 bytes: incompressible, reproducible from the seed. */
function pseudoRandomBytes(length: number, seed: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    bytes.writeUInt32LE(x, i);
  }
  return bytes;
}
