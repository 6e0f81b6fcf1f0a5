/**
 * One status line per VM ("booting…", "scenario 3/12: load") kept at the
 * bottom of a terminal while TAP scrolls above it. On a terminal the block is
 * cleared, the TAP text written, and the block drawn again; anywhere else (CI
 * logs, pipes) there is no block at all and status changes become TAP
 * comments, one plain line each.
 */
export interface StatusStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

const CLEAR_LINE = '\x1b[2K';
const UP = (n: number): string => `\x1b[${n}A`;

export class LiveStatus {
  private readonly lines = new Map<string, string>();
  private drawn = 0;

  constructor(private readonly out: StatusStream) {}

  get live(): boolean {
    return this.out.isTTY === true;
  }

  /** Writes text (TAP) above the status block. */
  write(text: string): void {
    if (!this.live) {
      this.out.write(text);
      return;
    }
    this.clear();
    this.out.write(text);
    this.draw();
  }

  set(key: string, status: string): void {
    if (this.lines.get(key) === status) return;
    this.lines.set(key, status);
    if (this.live) {
      this.clear();
      this.draw();
    } else {
      this.out.write(`# ${key}: ${status}\n`);
    }
  }

  remove(key: string): void {
    if (!this.lines.delete(key) || !this.live) return;
    this.clear();
    this.draw();
  }

  private clear(): void {
    if (this.drawn === 0) return;
    this.out.write(`${UP(this.drawn)}${`${CLEAR_LINE}\n`.repeat(this.drawn)}${UP(this.drawn)}`);
    this.drawn = 0;
  }

  private draw(): void {
    const width = 100;
    for (const [key, status] of this.lines) this.out.write(`${`▸ ${key}: ${status}`.slice(0, width)}\n`);
    this.drawn = this.lines.size;
  }
}
