/**
 * The only error a parser in `harness/net/codec` throws on bad input.
 *
 * Frames arrive from a guest kernel, or from a hostile-input scenario that builds them on
 * purpose; the stack drops anything that fails to parse and counts it. A dedicated class lets
 * the stack tell "bad bytes" (drop) apart from a bug in our own code (let it surface).
 */
export class ParseError extends Error {
  override readonly name = 'ParseError';

  constructor(
    /** Which layer refused the input, e.g. `tcp`, `ipv4`. */
    readonly layer: string,
    message: string,
  ) {
    super(`${layer}: ${message}`);
  }
}

/** Throws a ParseError unless `bytes` holds at least `needed` bytes. */
export function requireLength(layer: string, bytes: Uint8Array, needed: number, what: string): void {
  if (bytes.length < needed) {
    throw new ParseError(layer, `${what} needs ${needed} bytes, got ${bytes.length}`);
  }
}
