/**
 * The micro-VM's numbers: wall time from QEMU start to the first verdict, booted
 * and restored from the image's saved guest (harness/vm/micro-vm-snapshot.ts),
 * alternately in one run, and what the balancer moves against the real guest
 * (connections/s, MiB/s).
 *
 *   npx tsx bench/microvm.ts
 */
import { pathToFileURL } from 'node:url';
import { backendPatternBytes, fnv1a64 } from '../harness/client/fnv1a.ts';
import { httpRequest } from '../harness/client/http-client.ts';
import { BackendServer } from '../harness/guest/backend-server.ts';
import { ensureMicroVmImage } from '../harness/images/microvm/build-microvm-image.ts';
import { MicroLab } from '../harness/lab/micro-lab.ts';
import { RunSession } from '../harness/lifecycle/run-session.ts';
import { DEFAULT_BALANCER_ADDRESS, DEFAULT_BALANCER_MAC, FullNatBalancer, NetworkHost, QemuStreamWire } from '../harness/net/index.ts';
import { insertToaModule } from '../harness/toa/toa-module.ts';
import { MicroVm } from '../harness/vm/micro-vm.ts';

export interface MicroVmFigures {
  accelerator: string;
  firstVerdictSeconds: number[];
  /** The same first verdict on a guest restored from the snapshot (reseed and clock included). */
  firstVerdictRestoredSeconds: number[];
  connectionsPerSecond: number[];
  downloadMiBPerSecond: number[];
  echoMiBPerSecondEachWay: number[];
}

export async function measureMicroVm(options: { boots?: number; rounds?: number } = {}): Promise<MicroVmFigures> {
  const image = await ensureMicroVmImage();
  const figures: MicroVmFigures = {
    accelerator: '',
    firstVerdictSeconds: [],
    firstVerdictRestoredSeconds: [],
    connectionsPerSecond: [],
    downloadMiBPerSecond: [],
    echoMiBPerSecondEachWay: [],
  };
  // Untimed: makes sure the snapshot exists (on a cold cache this boots and saves it).
  await withSession((session) => MicroVm.start({ image, session, start: 'snapshot' }).then((vm) => vm.stop()));
  // Booted and restored alternately, so both see the same machine load.
  for (let i = 0; i < (options.boots ?? 5); i++) {
    const booted = await withSession((s) => timeToFirstVerdict(s, image, 'boot', (a) => (figures.accelerator = a)));
    figures.firstVerdictSeconds.push(booted.firstVerdictSeconds);
    const restored = await withSession((s) => timeToFirstVerdict(s, image, 'snapshot', () => {}));
    figures.firstVerdictRestoredSeconds.push(restored.firstVerdictSeconds);
  }

  const session = await RunSession.open();
  try {
    const lab = await MicroLab.start(session);
    await insertToaModule(lab.guest, lab.toaModulePath);
    const balancer = await lab.startBalancer({ toa: { kind: 254, placement: ['ack'] } });
    for (let round = 0; round < (options.rounds ?? 3); round++) {
      figures.connectionsPerSecond.push(await shortConnectionsPerSecond(balancer.port, 400, 16));
      figures.downloadMiBPerSecond.push(await downloadMiBPerSecond(balancer.port, 32 * 1024 * 1024));
      figures.echoMiBPerSecondEachWay.push(await echoMiBPerSecond(balancer.port, 16 * 1024 * 1024));
      await lab.backend.clearLog(); // the log lives in the guest's RAM
    }
    await balancer.close();
  } finally {
    await session.close();
  }
  return figures;
}

export async function withSession<T>(body: (session: RunSession) => Promise<T>): Promise<T> {
  const session = await RunSession.open();
  try {
    return await body(session);
  } finally {
    await session.close();
  }
}

export interface FirstVerdictTiming {
  /** QEMU start → the guest ready (booted: "guest ready" on the console; restored: the agent answers, reseeded). */
  readySeconds: number;
  /** QEMU start → the first verdict checked. */
  firstVerdictSeconds: number;
}

/**
 * QEMU start → guest ready (booted, or restored and reseeded) → toa.ko in → one
 * request through the balancer → the backend's log line checked.
 */
export async function timeToFirstVerdict(
  session: RunSession,
  image: Awaited<ReturnType<typeof ensureMicroVmImage>>,
  start: 'boot' | 'snapshot',
  onAccelerator: (name: string) => void,
): Promise<FirstVerdictTiming> {
  const started = performance.now();
  const vm = await MicroVm.start({ image, session, start });
  const readySeconds = (performance.now() - started) / 1000;
  if (start === 'snapshot' && vm.startedFrom.how !== 'restored') throw new Error(`expected a restored guest: ${JSON.stringify(vm.startedFrom)}`);
  onAccelerator(vm.accelerator.accelerator);
  const wire = await QemuStreamWire.connect({ path: vm.labWireSocket });
  const host = new NetworkHost({ wire, mac: DEFAULT_BALANCER_MAC, addresses: [DEFAULT_BALANCER_ADDRESS] });
  const [backend] = await Promise.all([BackendServer.start(vm.agent), insertToaModule(vm.agent, image.guestToaModule)]);
  const balancer = await FullNatBalancer.start({ host, backend: { address: vm.guestAddress, port: 80 } });
  await httpRequest({ port: balancer.port });
  const [line] = await backend.records();
  const injected = balancer.records[0]?.injectedClient;
  if (!line || line.peer.ip !== injected?.address) throw new Error(`first verdict failed: ${line?.raw ?? 'no log line'}`);
  const firstVerdictSeconds = (performance.now() - started) / 1000;
  await balancer.close();
  host.close();
  await vm.stop();
  return { readySeconds, firstVerdictSeconds };
}

async function shortConnectionsPerSecond(port: number, total: number, concurrency: number): Promise<number> {
  return total / (await shortConnectionsSeconds(port, total, concurrency));
}

/** `total` connections with GET / (connect, request, response, close), `concurrency` at a time: seconds. */
export async function shortConnectionsSeconds(port: number, total: number, concurrency: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < total) {
        const response = await httpRequest({ port });
        if (response.status !== 200) throw new Error(`GET /: status ${response.status}`);
      }
    }),
  );
  return (performance.now() - started) / 1000;
}

async function downloadMiBPerSecond(port: number, bytes: number): Promise<number> {
  const started = performance.now();
  const response = await httpRequest({ port, path: `/bytes/${bytes}`, timeoutMs: 300_000 });
  const seconds = (performance.now() - started) / 1000;
  if (response.body.length !== bytes || fnv1a64(response.body) !== fnv1a64(backendPatternBytes(bytes))) {
    throw new Error('download corrupted');
  }
  return bytes / 1048576 / seconds;
}

async function echoMiBPerSecond(port: number, bytes: number): Promise<number> {
  const body = backendPatternBytes(bytes);
  const started = performance.now();
  const response = await httpRequest({ port, method: 'POST', path: '/echo', body, timeoutMs: 300_000 });
  const seconds = (performance.now() - started) / 1000;
  if (!response.body.equals(body)) throw new Error('echo corrupted');
  return bytes / 1048576 / seconds;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(JSON.stringify(await measureMicroVm(), null, 2));
}
