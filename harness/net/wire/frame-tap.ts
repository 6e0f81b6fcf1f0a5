import type { Wire } from './wire.ts';

export type FrameDirection = 'in' | 'out';

/**
 * Sees every frame crossing a wire, for debugging and for tests that check exactly what went
 * out (e.g. which segments carried the TOA option). Must not modify the frame.
 */
export type FrameTap = (frame: Uint8Array, direction: FrameDirection, timestampMs: number) => void;

/** Wraps a wire so `tap` sees every frame sent (`out`) and received (`in`) through it. */
export function tapWire(wire: Wire, tap: FrameTap): Wire {
  return {
    send(frame) {
      tap(frame, 'out', Date.now());
      wire.send(frame);
    },
    onFrame(listener) {
      return wire.onFrame((frame) => {
        tap(frame, 'in', Date.now());
        listener(frame);
      });
    },
    onClose: (listener) => wire.onClose(listener),
    get closed() {
      return wire.closed;
    },
    close: () => wire.close(),
  };
}

/** A tap that records frames in memory, for assertions. */
export function createFrameRecorder(): { tap: FrameTap; frames: { frame: Uint8Array; direction: FrameDirection }[] } {
  const frames: { frame: Uint8Array; direction: FrameDirection }[] = [];
  return { tap: (frame, direction) => frames.push({ frame, direction }), frames };
}
