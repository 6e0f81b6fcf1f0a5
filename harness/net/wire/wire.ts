/**
 * A wire carries whole Ethernet frames (no FCS) between the harness and one peer: the QEMU
 * guest's lab NIC, or another userspace stack in a test. Frames are datagrams — a wire may lose
 * them (TCP above recovers) but never splits or merges them.
 *
 * Ownership: a frame passed to `send` belongs to the wire from then on; the sender must not
 * modify it. A receiver may keep subarrays of a delivered frame (the TCP receive path does,
 * to avoid copying payloads).
 */
export interface Wire {
  send(frame: Uint8Array): void;
  /** Registers a listener for received frames; returns a function that removes it. */
  onFrame(listener: (frame: Uint8Array) => void): () => void;
  /** Called once when the wire goes away (peer hung up, or `close()`); with the cause if any. */
  onClose(listener: (error?: Error) => void): () => void;
  readonly closed: boolean;
  close(): Promise<void>;
}

/**
 * Listener bookkeeping shared by wire implementations: frame and close listeners, and the
 * closed flag, so each implementation only deals with moving bytes.
 */
export class WireListeners {
  private readonly frameListeners = new Set<(frame: Uint8Array) => void>();
  private readonly closeListeners = new Set<(error?: Error) => void>();
  private isClosed = false;

  get closed(): boolean {
    return this.isClosed;
  }

  onFrame(listener: (frame: Uint8Array) => void): () => void {
    this.frameListeners.add(listener);
    return () => this.frameListeners.delete(listener);
  }

  onClose(listener: (error?: Error) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  deliver(frame: Uint8Array): void {
    for (const listener of this.frameListeners) listener(frame);
  }

  /** Marks the wire closed and notifies once; later calls do nothing. */
  markClosed(error?: Error): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const listener of this.closeListeners) listener(error);
    this.frameListeners.clear();
    this.closeListeners.clear();
  }
}
