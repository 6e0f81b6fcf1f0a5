import { describe, expect, it } from 'vitest';
import { LiveStatus } from '../../../harness/report/live-status.ts';

function stream(isTTY: boolean): { isTTY: boolean; text: string; write(t: string): void } {
  return { isTTY, text: '', write(t) { this.text += t; } };
}

describe('LiveStatus', () => {
  it('on a terminal keeps one line per VM below the TAP, redrawn in place', () => {
    const out = stream(true);
    const status = new LiveStatus(out);
    status.set('microvm-bookworm', 'booting…');
    status.set('microvm-trixie', 'booting…');
    status.write('ok 1 - a\n');
    status.set('microvm-bookworm', 'scenario 2/11: bulk-transfer');
    // The TAP line survives; the block is cleared (cursor up 2, clear lines) and redrawn.
    expect(out.text).toContain('ok 1 - a\n');
    expect(out.text).toContain('\x1b[2A\x1b[2K\n\x1b[2K\n\x1b[2A');
    expect(out.text.endsWith('▸ microvm-bookworm: scenario 2/11: bulk-transfer\n▸ microvm-trixie: booting…\n')).toBe(true);
  });

  it('in CI (no terminal) writes plain lines only, as TAP comments', () => {
    const out = stream(false);
    const status = new LiveStatus(out);
    status.set('microvm-bookworm', 'booting…');
    status.set('microvm-bookworm', 'booting…'); // unchanged: not repeated
    status.write('ok 1 - a\n');
    expect(out.text).toBe('# microvm-bookworm: booting…\nok 1 - a\n');
    expect(out.text).not.toContain('\x1b');
  });
});
