import type { DataPathLab } from '../harness/lab/data-path-lab.ts';
import { BackendServer } from '../harness/guest/backend-server.ts';
import { createGuestNetns, netnsUnavailable, type GuestNetns } from '../harness/lab/guest-netns.ts';
import { kernelUnhurt, withToaModule } from '../harness/lab/toa-state.ts';
import { balancerEndpoint, injectedEndpoint, runThroughBalancer, sameEndpoint } from '../harness/lab/traffic.ts';
import { check, finding, type Check, type Scenario } from '../harness/core/scenario.ts';

/** The namespace's address on the lab segment (192.0.2.0/24, unused by the rest of the lab). */
const NETNS_ADDRESS = '192.0.2.20';
// Not 80, 8080 (a full OS's nginx), 8081 (defer-accept), 8082 (tcp-fast-open).
const NETNS_PORT = 8083;
const CONNECTIONS = 3;

/**
 * A backend in a container: its socket lives in a network namespace of its own, reached over a
 * veth pair (harness/lab/guest-netns.ts). The balancer's segments cross the guest's own
 * namespace (forwarded, never delivered there) and are delivered in the backend's. A TOA module
 * whose hooks cover only the initial namespace (a netfilter hook registered on init_net alone)
 * never sees them; toa-lab's toa.ko registers its LOCAL_IN hooks in every namespace (pernet) and
 * its tracepoints and getname probes are global, so its verdict is that the backend in the
 * namespace sees the client. For another module, what getpeername() returns there is reported.
 */
export const netnsBackend: Scenario<DataPathLab> = {
  id: 'netns-backend',
  title: "A backend in a network namespace (a container's socket): getpeername() there returns the client",
  setup:
    `toa.ko loaded with default parameters; a network namespace held by \`unshare -n\`, a veth pair into it (${NETNS_ADDRESS}/32 inside, ` +
    `a host route and proxy ARP in the guest's own namespace, forwarding on); toa-backend on :${NETNS_PORT} started in it with \`nsenter -n\``,
  sends: `${CONNECTIONS} connections through the balancer to ${NETNS_ADDRESS}:${NETNS_PORT}, TOA in the handshake ACK and the first data`,
  passesWhen:
    "toa-backend's process is in the namespace (its /proc/PID/ns/net is not the guest's); every request is answered; " +
    "every log line names the injected client or the balancer, nothing else; for toa-lab's own toa.ko, every line names the injected client " +
    '(getpeername and accept); for other modules what getpeername shows in the namespace is reported; no oops/BUG/WARN',
  mechanism: 'toa',
  notApplicable: (lab) => netnsUnavailable(lab.guest),
  async run(lab) {
    const since = await lab.markKernelLog();
    const checks: Check[] = [await withToaModule(lab, {})];
    let netns: GuestNetns | undefined;
    let backend: BackendServer | undefined;
    try {
      netns = await createGuestNetns(lab.guest, { labInterface: lab.labInterface, address: NETNS_ADDRESS });
      backend = await BackendServer.start(lab.guest, { port: NETNS_PORT, logFile: '/var/log/toa-backend-netns.log', runIn: netns.enter });
      const where = await netns.holds(backend.pid);
      checks.push(check("toa-backend runs in its own network namespace", where.inside, "its /proc/PID/ns/net differs from the guest shell's", where.inside ? 'it does' : 'it does not', where.evidence));

      const round = await runThroughBalancer(lab, {
        toa: { kind: lab.toaKind, placement: ['ack', 'first-data'] },
        connections: CONNECTIONS,
        backend,
        backendAddress: NETNS_ADDRESS,
      });
      checks.push(
        round.allAnswered('backend in a namespace'),
        round.eachConnectionSaw('backend in a namespace: the injected client or the balancer, nothing else', (c) => {
          const client = injectedEndpoint(c);
          return client && c.logLine && sameEndpoint(c.logLine.peer, client) ? client : balancerEndpoint(c);
        }),
      );
      const seenClient = round.connections.filter((c) => {
        const client = injectedEndpoint(c);
        return !!client && !!c.logLine && sameEndpoint(c.logLine.peer, client);
      }).length;
      if (lab.ownModule) {
        checks.push(round.eachConnectionSaw("backend in a namespace: toa.ko's hooks reach it, getpeername names the client", injectedEndpoint));
      } else {
        checks.push(
          finding(
            'backend in a namespace: what getpeername() returns there',
            seenClient === round.connections.length,
            'the injected client',
            seenClient === round.connections.length ? 'the client' : `${seenClient} of ${round.connections.length} the client, the rest the balancer (the module does not reach this namespace)`,
            round.log.map((l) => l.raw).join('\n'),
          ),
        );
      }
    } finally {
      await backend?.stop();
      await netns?.remove();
    }
    checks.push(await kernelUnhurt(lab, since));
    return checks;
  },
};
