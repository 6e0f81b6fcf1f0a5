import { BackendServer } from '../harness/guest/backend-server.ts';
import { formatEndpoint, type BackendLogRecord, type Endpoint } from '../harness/checks/backend-log.ts';
import { GUEST_IPV6, type DataPathLab } from '../harness/lab/data-path-lab.ts';
import { kernelUnhurt, withToaModule } from '../harness/lab/toa-state.ts';
import { balancerEndpoint, runThroughBalancer, sameEndpoint, type TrafficConnection } from '../harness/lab/traffic.ts';
import {
  BALANCER_PROFILE_LIST,
  createSimulatedClientCycle,
  profileCarries,
  profileConnectionFamily,
  type BalancerProfile,
} from '../harness/net/index.ts';
import { check, finding, type Check, type Scenario } from '../harness/core/scenario.ts';

export const BALANCER_PROFILES_SCENARIO_ID = 'balancer-profiles';

/** The IPv6 listener for profiles whose balancer speaks IPv6 (as fullnat-toa-v6's). */
const V6_PORT = 81;

/**
 * What the backend's log says the module made of one profile's option:
 * - `read`: the client the option carries (its address, and its port when the format has one);
 * - `ignored`: the balancer's own address and port, as without TOA;
 * - `misread`: anything else — an address the balancer never meant as the client;
 * - `no-connection`: no log line (the request never reached the backend).
 */
export type ProfileReading = 'read' | 'ignored' | 'misread' | 'no-connection';

export interface ProfileResult {
  profile: BalancerProfile;
  reading: ProfileReading;
  /** The log line's getpeername() and accept(), as the guest wrote them. */
  line: BackendLogRecord | undefined;
  /** The client the balancer put in the option (undefined for formats without one). */
  client: Endpoint | undefined;
}

/**
 * Judges one connection from the backend's log line. A no-port format is read when the address
 * alone matches (the port a module then reports is its own choice). getpeername() and accept()
 * must agree; if they do not, that is a misread whichever one is right.
 */
export function readingOf(profile: BalancerProfile, connection: TrafficConnection): ProfileReading {
  const line = connection.logLine;
  if (!line) return 'no-connection';
  const carries = profileCarries(profile);
  const injected = connection.record?.injectedClient;
  const balancer = balancerEndpoint(connection);
  const one = (seen: Endpoint): ProfileReading => {
    if (balancer && sameEndpoint(seen, balancer)) return 'ignored';
    if (carries.clientAddress && injected && seen.ip === injected.address && (!carries.clientPort || seen.port === injected.port)) return 'read';
    return 'misread';
  };
  const peer = one(line.peer);
  return peer === one(line.accept) ? peer : 'misread';
}

/**
 * Every vendor wire format (harness/net/balancer/balancer-profiles.ts) through the FULLNAT
 * balancer, one connection each, and what the backend's own log shows for it. The profile the
 * run's balancer sends (`--balancer` / `--toa-kind`) is the one the module is configured for:
 * only it must be read. The others are findings — a module is not wrong to ignore a vendor it
 * was not built for — except that none may crash the guest or the kernel.
 */
export const balancerProfiles: Scenario<DataPathLab> = {
  id: BALANCER_PROFILES_SCENARIO_ID,
  title: 'Vendor TOA wire formats: which the module reads (a finding each; the configured one must be read)',
  setup:
    "the module under test loaded as its spec declares (toa-lab's with toa_kinds = the declared kinds, a vendor's bare); " +
    `toa-backend on :80, and on [${GUEST_IPV6}]:${V6_PORT} for the formats an IPv6 balancer sends`,
  sends:
    'one HTTP request per balancer profile, its option in the handshake ACK and first data segment: ' +
    BALANCER_PROFILE_LIST.map((p) => `${p.name} (${p.kind}/${p.length})`).join(', ') +
    '; plus the run\'s own profile if it is not one of these (--toa-kind)',
  passesWhen:
    "the backend's log line for the run's profile names the client (address, and port where the format carries one); " +
    'every other profile is reported as read, ignored, misread or no connection; the guest stays up and the kernel shows no oops/BUG/WARN',
  mechanism: 'toa',
  async run(lab) {
    const since = await lab.markKernelLog();
    const checks: Check[] = [await withToaModule(lab, {})];
    const profiles = BALANCER_PROFILE_LIST.some((p) => p.name === lab.balancerProfile.name)
      ? BALANCER_PROFILE_LIST
      : [lab.balancerProfile, ...BALANCER_PROFILE_LIST];
    const results: ProfileResult[] = [];
    // Each profile names its own client (the n-th of the cycle): a module that carried one
    // connection's address over to the next could not pass for reading it.
    const clientIndex = (profile: BalancerProfile): number => profiles.indexOf(profile);
    for (const profile of profiles.filter((p) => profileConnectionFamily(p) === 4)) results.push(await sendProfile(lab, profile, clientIndex(profile)));
    const ipv6 = profiles.filter((p) => profileConnectionFamily(p) === 6);
    if (ipv6.length) {
      await lab.enableIpv6();
      const v6 = await BackendServer.start(lab.guest, { port: V6_PORT, family: '6' });
      try {
        for (const profile of ipv6) results.push(await sendProfile(lab, profile, clientIndex(profile), v6));
      } finally {
        await v6.stop();
        await lab.disableIpv6();
      }
    }
    for (const result of results) checks.push(verdictFor(lab, result));
    const alive = await lab.guest.run('echo alive');
    checks.push(
      summary(lab, results),
      check('the guest is alive', alive.stdout.trim() === 'alive', 'the agent answers', alive.stdout.trim() || `exit ${alive.exitCode}`),
      await kernelUnhurt(lab, since),
    );
    return checks;
  },
};

async function sendProfile(lab: DataPathLab, profile: BalancerProfile, clientIndex: number, v6?: BackendServer): Promise<ProfileResult> {
  const cycle = createSimulatedClientCycle({ family: profileCarries(profile).clientAddress ?? 4 });
  const traffic = await runThroughBalancer(lab, {
    toa: { kind: profile.kind, layout: profile.layout, placement: profile.placement },
    connections: 1,
    chooseClient: (n) => cycle(clientIndex + n),
    ...(v6 && { backend: v6, backendAddress: GUEST_IPV6 }),
  });
  const [connection] = traffic.connections;
  const injected = connection?.record?.injectedClient;
  return {
    profile,
    reading: connection ? readingOf(profile, connection) : 'no-connection',
    line: connection?.logLine,
    client: injected && profileCarries(profile).clientAddress ? { ip: injected.address, port: injected.port } : undefined,
  };
}

const EXPECTED_OF_OTHERS = 'read or ignored (the module need not know this vendor), never another address';

function verdictFor(lab: DataPathLab, result: ProfileResult): Check {
  const { profile, reading, line, client } = result;
  const observed = `${reading}: ${line ? `getpeername ${formatEndpoint(line.peer)}, accept ${formatEndpoint(line.accept)}` : 'no log line'}`;
  const evidence = [
    `sent: ${profile.summary} (${profile.vendor}), in ${profile.placement.join(' + ')}`,
    `client in the option: ${client ? (profileCarries(profile).clientPort ? formatEndpoint(client) : `${client.ip} (no port in this format)`) : 'none (this format names no client)'}`,
    `declared kinds: ${lab.moduleKinds.join(', ')}${lab.moduleKinds.includes(profile.kind) ? '' : ` (${profile.kind} not among them)`}`,
    line ? `log: ${line.raw}` : 'log: no line',
  ].join('\n');
  if (profile.name === lab.balancerProfile.name) {
    return check(`${profile.name} — the run's balancer profile: the backend logs the client`, reading === 'read', 'read', observed, evidence);
  }
  return finding(`${profile.name} (kind ${profile.kind}, length ${profile.length})`, reading === 'read' || reading === 'ignored', EXPECTED_OF_OTHERS, observed, evidence);
}

/** One line per reading, for the report's reader who wants the module's map of the field. */
function summary(lab: DataPathLab, results: readonly ProfileResult[]): Check {
  const names = (reading: ProfileReading): string => results.filter((r) => r.reading === reading).map((r) => r.profile.name).join(', ') || 'none';
  return finding(
    `the module (declared kinds ${lab.moduleKinds.join(', ')}) reads ${results.filter((r) => r.reading === 'read').length} of ${results.length} profiles`,
    results.every((r) => r.reading !== 'misread'),
    'a map of what it reads',
    `reads: ${names('read')}; ignores: ${names('ignored')}; misreads: ${names('misread')}; no connection: ${names('no-connection')}`,
  );
}
