import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runClear, type ClearOptions } from '../../src/market/commands.js';
import { OrderFileError } from '../../src/market/order-file.js';
import { price } from './support.js';

const run = promisify(execFile);
const script = new URL('../../bin/gridshare.js', import.meta.url).pathname;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gridshare-market-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const HEADER = 'order_id,member_id,side,energy_wh,price_per_kwh,submitted_at';
const EXAMPLE = [
  HEADER,
  'S1,dave,sell,250,0.12,2025-06-01T08:01:00Z',
  'B1,alice,buy,300,0.20,2025-06-01T08:02:00Z',
  'S2,erin,sell,200,0.15,2025-06-01T08:03:00Z',
  '"B2",bob,buy,200,0.18,2025-06-01T08:04:00Z',
  'S3,"frank, the farmer",sell,100,0.19,2025-06-01T08:05:00Z',
  'B3,carol,buy,100,0.10,2025-06-01T08:06:00Z',
].join('\r\n');

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

async function refused(text: string, extra: Partial<ClearOptions> = {}): Promise<OrderFileError> {
  const out = join(dir, 'refused.csv');
  await writeFile(out, 'previous result\n');
  const error = await runClear({ orders: await file('bad.csv', text), mechanism: 'uniform', out, ...extra }).catch((e: unknown) => e);
  expect(await readFile(out, 'utf8')).toBe('previous result\n');
  expect((await readdir(dir)).filter((f) => f.includes('.tmp-'))).toEqual([]);
  return error as OrderFileError;
}

describe('gridshare market clear', () => {
  it('clears the worked example into exactly the trade columns and reports price, volume and welfare', async () => {
    const out = join(dir, 'trades.csv');
    const summary = await runClear({ orders: await file('orders.csv', EXAMPLE), mechanism: 'uniform', out });
    expect(await readFile(out, 'utf8')).toBe([
      'buy_order_id,sell_order_id,energy_wh,price_per_kwh',
      'B1,S1,250,0.1650', 'B1,S2,50,0.1650', 'B2,S2,150,0.1650', '',
    ].join('\n'));
    expect(summary).toMatchObject({ orders: 6, bids: 3, offers: 3, trades: 3, clearingPrice: '0.1650', volumeWh: 450, welfare: '0.027', gridFees: '0' });

    const payAsBid = await runClear({ orders: join(dir, 'orders.csv'), mechanism: 'pay-as-bid', out, gridFee: price('0.01') });
    expect(await readFile(out, 'utf8')).toBe([
      'buy_order_id,sell_order_id,energy_wh,price_per_kwh',
      'B1,S1,250,0.1200', 'B1,S2,50,0.1900', 'B2,S2,150,0.1500', '',
    ].join('\n'));
    expect(payAsBid).toMatchObject({ clearingPrice: null, lowestPrice: '0.1200', highestPrice: '0.1900', gridFees: '0.0045' });
  });

  it('quotes ids that need it in the trades file', async () => {
    const out = join(dir, 'quoted.csv');
    await runClear({ orders: await file('q.csv', `${HEADER}\n"s,1",x,sell,5,0.1,2025-06-01T08:00:00Z\n"b""2",y,buy,5,0.1,2025-06-01T08:00:00Z\n`), mechanism: 'uniform', out });
    expect(await readFile(out, 'utf8')).toBe('buy_order_id,sell_order_id,energy_wh,price_per_kwh\n"b""2","s,1",5,0.1000\n');
  });

  it('refuses a file with bad rows as a whole, naming every bad line', async () => {
    const error = await refused([
      HEADER,
      'S1,dave,sell,250,0.12,2025-06-01T08:01:00Z',
      'B1,alice,BUY,300,0.20,2025-06-01T08:02:00Z',
      '',
      'S2,erin,sell,-5,0.123456,2025-06-01 08:03',
      'S1,bob,buy,200,0.18,2025-06-01T08:04:00Z',
      '"S3,frank,sell,100,0.19,2025-06-01T08:05:00Z',
      'B3,carol,buy,100',
      'B4,"x"y,buy,100,0.1,2025-06-01T08:05:00Z',
      'B5,carol,buy,1.5,NaN,2025-06-01T08:06:00+01:00',
      'B6,,buy,99999999999,1e3,2025-02-30T08:00:00Z',
      'B7,carol,buy,100,0.2,2025-06-01T08:06:00Z',
    ].join('\n'));
    expect(error).toBeInstanceOf(OrderFileError);
    expect(error.problems.map((p) => p.line)).toEqual([3, 5, 6, 7, 8, 9, 10, 11]);
    expect(error.message).toContain('line 3: side "BUY" is neither buy nor sell');
    expect(error.message).toContain('line 5: energy_wh "-5" is not a whole number of Wh from 1 to 10000000; price_per_kwh "0.123456" is not a price ≥ 0 with at most 4 decimal places; submitted_at "2025-06-01 08:03" is not a UTC ISO time');
    expect(error.message).toContain('line 6: order_id S1 is used before, on line 2');
    expect(error.message).toContain('line 7: not valid CSV (Quote Not Closed)');
    expect(error.message).toContain('line 8: expected 6 fields, found 4');
    expect(error.message).toMatch(/line 9: not valid CSV/);
    expect(error.message).toContain('line 10: energy_wh "1.5"');
    expect(error.message).toMatch(/line 11: member_id is empty; energy_wh "99999999999".*price_per_kwh "1e3".*submitted_at "2025-02-30T08:00:00Z"/);
  });

  it('refuses a wrong header, an empty file and orders outside the community\'s price bounds', async () => {
    expect((await refused('id,member,side,wh,price,time\nS1,dave,sell,250,0.12,2025-06-01T08:01:00Z\n')).message).toMatch(/line 1: the header must be order_id,member_id,side,energy_wh,price_per_kwh,submitted_at/);
    expect((await refused('')).message).toBe('line 1: the file is empty');
    const bounds = await refused(EXAMPLE, { floor: price('0.13'), ceiling: price('0.18'), gridFee: price('0.01') });
    expect(bounds.message.split('\n')).toEqual([
      'line 2: the price 0.1200 is below the floor 0.1300',
      'line 3: the bid less the grid fee (0.1900) is above the ceiling 0.1800',
      'line 6: the price 0.1900 is above the ceiling 0.1800',
      'line 7: the bid less the grid fee (0.0900) is below the floor 0.1300',
    ]);
  });

  it('refuses unknown mechanisms, missing files and bad bounds before reading anything', async () => {
    const out = join(dir, 'never.csv');
    await expect(runClear({ orders: join(dir, 'orders.csv'), mechanism: 'vickrey', out })).rejects.toThrow(/unknown mechanism "vickrey"; choose one of: uniform, pay-as-bid/);
    await expect(runClear({ orders: join(dir, 'missing.csv'), mechanism: 'uniform', out })).rejects.toThrow(/missing.csv does not exist/);
    await expect(runClear({ orders: join(dir, 'orders.csv'), mechanism: 'uniform', out, floor: price('0.3'), ceiling: price('0.2') })).rejects.toThrow(/floor 0.3000 is above the ceiling 0.2000/);
    expect((await readdir(dir)).includes('never.csv')).toBe(false);
  });

  it('runs from the command line: JSON summary, and JSON problems with exit code 1', async () => {
    const orders = await file('cli.csv', EXAMPLE);
    const ok = await run(process.execPath, [script, 'market', 'clear', '--orders', orders, '--out', join(dir, 'cli-trades.csv'), '--json']);
    expect(JSON.parse(ok.stdout)).toMatchObject({ mechanism: 'uniform', clearingPrice: '0.1650', volumeWh: 450, welfare: '0.027' });
    const bad = await file('cli-bad.csv', `${HEADER}\nS1,dave,sell,0,0.12,2025-06-01T08:01:00Z\nS2,dave,sell,10,x,2025-06-01T08:01:00Z\n`);
    const failed = await run(process.execPath, [script, 'market', 'clear', '--orders', bad, '--out', join(dir, 'cli-never.csv'), '--json'])
      .catch((e: { code: number; stdout: string }) => e);
    expect('code' in failed && failed.code).toBe(1);
    expect(JSON.parse(failed.stdout)).toMatchObject({ error: 'bad_orders', problems: [{ line: 2 }, { line: 3 }] });
  });
});
