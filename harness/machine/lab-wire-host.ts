import type { RunSession } from '../lifecycle/run-session.ts';
import {
  DEFAULT_BALANCER_ADDRESS,
  DEFAULT_BALANCER_MAC,
  FullNatBalancer,
  NetworkHost,
  QemuStreamWire,
  type BalancerFastOpen,
  type BalancerToaSettings,
  type FrameTap,
  type ProxyProtocolSettings,
  type SimulatedClient,
} from '../net/index.ts';

/**
 * The harness's side of a guest's lab wire, the same whatever booted the
 * guest (micro-VM, full OS under QEMU or Vagrant, the patched kernel's disk):
 * one NetworkHost carrying the balancer's address (and a spoofer's), one tap
 * that scenarios can watch, and FULLNAT balancers towards the guest.
 *
 *   client ─▶ 127.0.0.1 balancer ─▶ NetworkHost 192.0.2.2 ─▶ wire ─▶ guest 192.0.2.10
 */
export interface LabBalancerOptions {
  /** TOA settings, or false for a balancer that sends none. */
  toa: BalancerToaSettings | false;
  /** The balancer's own address: default 192.0.2.2; SPOOFER_ADDRESS plays a host that is not the balancer. */
  address?: string;
  /** The guest's port (default: the lab's toa-backend). */
  backendPort?: number;
  /** The guest's address to connect to (default its IPv4 lab address; GUEST_IPV6 for IPv6 scenarios). */
  backendAddress?: string;
  /** Send each client's bytes and FIN as one data+FIN segment (a real balancer bug class). */
  holdClientDataUntilFin?: boolean;
  /** The simulated client for the n-th connection (default: a deterministic cycle). */
  chooseClient?: (connectionIndex: number) => SimulatedClient;
  /** TCP Fast Open towards the guest (the tcp-fast-open scenario). */
  fastOpen?: BalancerFastOpen;
  /** A PROXY protocol header before each client's bytes (the proxy-protocol scenarios; give `toa: false`). */
  proxyProtocol?: ProxyProtocolSettings;
}

/** A second address of the harness's host: a client that is not the balancer (spoofing scenarios). */
export const SPOOFER_ADDRESS = '192.0.2.66';
/** The lab segment's IPv6 addresses (RFC 3849 documentation prefix): the balancer's and the guest's. */
export const BALANCER_IPV6 = '2001:db8::2';
export const GUEST_IPV6 = '2001:db8::10';

export class LabWireHost {
  private readonly listeners = new Set<FrameTap>();

  private constructor(
    readonly host: NetworkHost,
    /** The guest's IPv4 address on the lab wire. */
    readonly guestAddress: string,
  ) {}

  /** Connects to the guest's lab-wire socket; the session closes it with the run. */
  static async attach(session: RunSession, socketPath: string, guestAddress: string): Promise<LabWireHost> {
    const wire = await QemuStreamWire.connect({ path: socketPath });
    let side: LabWireHost | undefined;
    // One tap on the wire, many short-lived listeners (scenarios watch only their own traffic).
    const tap: FrameTap = (frame, direction, at) => {
      for (const listener of side?.listeners ?? []) listener(frame, direction, at);
    };
    const host = new NetworkHost({ wire, mac: DEFAULT_BALANCER_MAC, addresses: [DEFAULT_BALANCER_ADDRESS, SPOOFER_ADDRESS], tap });
    session.defer(() => host.close());
    side = new LabWireHost(host, guestAddress);
    return side;
  }

  get balancerAddress(): string {
    return DEFAULT_BALANCER_ADDRESS;
  }

  /** Sees every frame on the lab wire until the returned function is called. */
  watchFrames(listener: FrameTap): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A FULLNAT balancer on 127.0.0.1 relaying to the guest (`backendPort` unless the options name one); close it when done. */
  startBalancer(options: LabBalancerOptions, backendPort: number): Promise<FullNatBalancer> {
    return FullNatBalancer.start({
      host: this.host,
      backend: { address: options.backendAddress ?? this.guestAddress, port: options.backendPort ?? backendPort },
      toa: options.toa,
      ...(options.address && { address: options.address }),
      ...(options.holdClientDataUntilFin && { holdClientDataUntilFin: true }),
      ...(options.chooseClient && { chooseClient: options.chooseClient }),
      ...(options.fastOpen && { fastOpen: options.fastOpen }),
      ...(options.proxyProtocol && { proxyProtocol: options.proxyProtocol }),
    });
  }

  close(): void {
    this.host.close();
  }
}
