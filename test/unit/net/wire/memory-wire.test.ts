import { describe, expect, it } from 'vitest';
import { createMemoryWirePair } from '../../../../harness/net/wire/memory-wire.ts';
import { setImmediate as nextTurn } from 'node:timers/promises';

describe('memory wire', () => {
  it('delivers asynchronously, in order, both ways', async () => {
    const [a, b] = createMemoryWirePair();
    const atB: number[] = [];
    const atA: number[] = [];
    b.onFrame((frame) => atB.push(frame[0]!));
    a.onFrame((frame) => atA.push(frame[0]!));
    a.send(Uint8Array.of(1));
    a.send(Uint8Array.of(2));
    b.send(Uint8Array.of(9));
    expect(atB).toEqual([]); // never re-entrant
    await nextTurn();
    expect(atB).toEqual([1, 2]);
    expect(atA).toEqual([9]);
  });

  it('drops frames by rule and by seeded chance, identically each run', async () => {
    const run = async (): Promise<number[]> => {
      const [a, b] = createMemoryWirePair({ aToB: { lossRate: 0.3, seed: 42, dropFrame: (_, index) => index < 2 } });
      const got: number[] = [];
      b.onFrame((frame) => got.push(frame[0]!));
      for (let i = 0; i < 50; i++) a.send(Uint8Array.of(i));
      await nextTurn();
      expect(a.counters.sent).toBe(50);
      expect(a.counters.dropped + a.counters.delivered).toBe(50);
      return got;
    };
    const first = await run();
    expect(first).not.toContain(0);
    expect(first).not.toContain(1);
    expect(first.length).toBeGreaterThan(20);
    expect(first.length).toBeLessThan(45);
    expect(await run()).toEqual(first);
  });

  it('applies a delay without reordering', async () => {
    const [a, b] = createMemoryWirePair({ aToB: { delayMs: 20 } });
    const got: number[] = [];
    b.onFrame((frame) => got.push(frame[0]!));
    const start = Date.now();
    a.send(Uint8Array.of(1));
    a.send(Uint8Array.of(2));
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(got).toEqual([1, 2]);
    expect(Date.now() - start).toBeGreaterThanOrEqual(19);
  });

  it('closes both ends and reports it', async () => {
    const [a, b] = createMemoryWirePair();
    let closed = 0;
    a.onClose(() => closed++);
    b.onClose(() => closed++);
    await b.close();
    expect(a.closed && b.closed).toBe(true);
    expect(closed).toBe(2);
    a.send(Uint8Array.of(1)); // silently dropped, like an unplugged cable
  });
});
