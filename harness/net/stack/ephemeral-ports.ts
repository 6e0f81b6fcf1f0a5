/**
 * Ephemeral ports in the IANA range 49152–65535, handed out round-robin from a random start
 * (like Linux): a port is reused as late as possible, which keeps a new connection clear of the
 * peer's TIME-WAIT entry for an older one with the same 4-tuple.
 */
export const EPHEMERAL_PORT_FIRST = 49152;
export const EPHEMERAL_PORT_LAST = 65535;
const RANGE = EPHEMERAL_PORT_LAST - EPHEMERAL_PORT_FIRST + 1;

export class EphemeralPortAllocator {
  private next: number;

  constructor(start = EPHEMERAL_PORT_FIRST + Math.floor(Math.random() * RANGE)) {
    this.next = start;
  }

  /** The next port for which `isFree` holds; throws if every port is taken. */
  allocate(isFree: (port: number) => boolean): number {
    for (let tried = 0; tried < RANGE; tried++) {
      const port = this.next;
      this.next = port === EPHEMERAL_PORT_LAST ? EPHEMERAL_PORT_FIRST : port + 1;
      if (isFree(port)) return port;
    }
    throw new Error(`all ${RANGE} ephemeral ports are in use`);
  }
}
