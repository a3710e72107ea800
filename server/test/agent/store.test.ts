import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OutboxStore } from '../../src/agent/store.js';

const dirs: string[] = [];
const tempDb = () => {
  const dir = mkdtempSync(join(tmpdir(), 'gridshare-agent-store-'));
  dirs.push(dir);
  return join(dir, 'queue.db');
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** One DSMR-like telegram every 10 s: a register and three samples. */
function telegram(atMs: number, wh: number): string {
  const ts = new Date(atMs).toISOString();
  return JSON.stringify([
    { ts, quantity: 'energy.import', value: wh, unit: 'Wh' },
    { ts, quantity: 'power.import', value: 420, unit: 'W' },
    { ts, quantity: 'voltage.l1', value: 230.1, unit: 'V' },
    { ts, quantity: 'current.l1', value: 1.8, unit: 'A' },
  ]);
}

describe('the store-and-forward queue', () => {
  it('keeps messages in order across a reopen until they are acknowledged', () => {
    const path = tempDb();
    const store = new OutboxStore(path, 1024 * 1024);
    const seqs = [1, 2, 3].map((i) => store.append('readings', i * 10_000, 4, telegram(i * 10_000, i)));
    store.append('dsmr', 40_000, 1, Buffer.from('/raw frame'));
    store.acknowledge([seqs[0]!]);
    store.close();
    const again = new OutboxStore(path, 1024 * 1024);
    expect(again.peek(10).map((r) => [r.seq, r.kind, r.count])).toEqual([[seqs[1], 'readings', 4], [seqs[2], 'readings', 4], [seqs[2]! + 1, 'dsmr', 1]]);
    expect(again.peek(10).at(-1)!.payload.toString()).toBe('/raw frame');
    expect(again.stats()).toMatchObject({ messages: 3, readings: 9, oldestAtMs: 20_000 });
    again.acknowledge([seqs[1]!, seqs[1]!, 999]);
    expect(again.stats()).toMatchObject({ messages: 2, readings: 5 });
    again.close();
  });

  it('over its cap thins old quarter hours to their first and last registers before dropping anything', () => {
    const now = Date.parse('2026-11-30T12:00:00Z');
    const start = now - 6 * 3_600_000;
    const sizeOfOne = Buffer.byteLength(telegram(start, 1));
    // Six hours of telegrams every 10 s are 2,160 messages; the cap holds about 1,200 of them.
    const cap = sizeOfOne * 1_200;
    const store = new OutboxStore(tempDb(), cap, () => now);
    for (let i = 0; i < 2_160; i++) store.append('readings', start + i * 10_000, 4, telegram(start + i * 10_000, 1_000 + i));
    const stats = store.stats();
    expect(stats.bytes).toBeLessThanOrEqual(cap);
    expect(stats.droppedReadings).toBe(0);
    expect(stats.thinnedMessages).toBeGreaterThan(0);
    const rows = store.peek(10_000).map((r) => JSON.parse(r.payload.toString()) as { ts: string; quantity: string; value: number }[]);
    const registers = rows.flat().filter((r) => r.quantity === 'energy.import');
    // Every quarter hour still has its first and last register: the energy per interval is kept.
    const quarters = new Map<number, number[]>();
    for (const r of registers) {
      const q = Math.floor(Date.parse(r.ts) / 900_000);
      quarters.set(q, [...(quarters.get(q) ?? []), r.value]);
    }
    expect(quarters.size).toBe(24);
    for (const [q, values] of quarters) {
      const firstIndex = Math.ceil((q * 900_000 - start) / 10_000);
      expect(values[0]).toBe(1_000 + Math.max(0, firstIndex));
    }
    // The newest hour is untouched: every sample of it is there.
    const lastHour = rows.flat().filter((r) => Date.parse(r.ts) >= now - 3_600_000);
    expect(lastHour.length).toBe(360 * 4);
    // In queue order, registers never go backwards.
    expect(registers.map((r) => r.value)).toEqual([...registers.map((r) => r.value)].sort((a, b) => a - b));
    store.close();
  });

  it('drops the oldest messages, counted, when thinning is not enough', () => {
    const now = Date.parse('2026-11-30T12:00:00Z');
    const sizeOfOne = Buffer.byteLength(telegram(now, 1));
    // All within the protected newest hour: nothing can be thinned.
    const store = new OutboxStore(tempDb(), 100 * sizeOfOne, () => now);
    for (let i = 0; i < 150; i++) store.append('readings', now - 1_500_000 + i * 10_000, 4, telegram(now - 1_500_000 + i * 10_000, i));
    const stats = store.stats();
    expect(stats.bytes).toBeLessThanOrEqual(100 * sizeOfOne);
    expect(stats.droppedReadings).toBe(4 * (150 - stats.messages));
    const first = JSON.parse(store.peek(1)[0]!.payload.toString()) as { value: number }[];
    expect(first[0]!.value).toBe(150 - stats.messages);
    store.close();
  });
});
