import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorFigures, parseConsumptionRecord } from '../../../src/operator/domain/index.js';
import { daySummaries } from '../../../src/operator/commands.js';
import { runGridshare } from '../../support/process.js';
import { FIXTURE_DIR } from './support/fixtures.js';
import { communityDay, CONSUMER_A, PRODUCER } from './support/messages.js';

const fixture = (name: string) => `${FIXTURE_DIR}${name}`;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gridshare-eda-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('daySummaries', () => {
  it('sums quarter hours per Zählpunkt and local day, 100 on the autumn change, 92 in spring', async () => {
    const records = await Promise.all(['consumer-a-2025-10-26-100qh.xml', 'consumer-a-2025-03-29-and-30-two-blocks.xml']
      .map(async (name) => parseConsumptionRecord(await readFile(fixture(name)))));
    const days = daySummaries(operatorFigures(records), 'Europe/Vienna');
    expect(days.map((d) => [d.date, d.quarterHours])).toEqual([['2025-03-29', 96], ['2025-03-30', 92], ['2025-10-26', 100]]);
    const autumn = communityDay('2025-10-26', 2);
    expect(days[2]!.consumptionWh).toBe(autumn.consumptionWh[0]!.reduce((a, b) => a + b, 0));
    expect(days[2]!.codes['1-1:1.9.0 G.01']).toBe(days[2]!.consumptionWh);
    expect(days[2]!.quality).toEqual({ measured: 100 });
  });

  it('in UTC the same figures fall on other days', async () => {
    const record = parseConsumptionRecord(await readFile(fixture('consumer-a-2025-10-26-100qh.xml')));
    expect(daySummaries(operatorFigures([record]), 'UTC').map((d) => [d.date, d.quarterHours])).toEqual([['2025-10-25', 8], ['2025-10-26', 92]]);
  });
});

describe('gridshare eda inspect', () => {
  it('prints JSON per Zählpunkt and day for several files', async () => {
    const run = runGridshare(['eda', 'inspect', '--json', fixture('consumer-a-2025-06-01.xml'), fixture('producer-2025-06-01.xml')]);
    expect(await run.exited).toBe(0);
    const output = JSON.parse(run.output()) as { messages: { meteringPoint: string; schemaVersion: string }[]; days: unknown[] };
    expect(output.messages.map((m) => [m.meteringPoint, m.schemaVersion])).toEqual([[CONSUMER_A, '01.41'], [PRODUCER, '01.41']]);
    const records = await Promise.all(['consumer-a-2025-06-01.xml', 'producer-2025-06-01.xml'].map(async (n) => parseConsumptionRecord(await readFile(fixture(n)))));
    expect(output.days).toEqual(daySummaries(operatorFigures(records), 'Europe/Vienna'));
  });

  it('prints a table in kWh', async () => {
    const run = runGridshare(['eda', 'inspect', fixture('producer-2025-06-01.xml')]);
    expect(await run.exited).toBe(0);
    const day = communityDay('2025-06-01', 1);
    const production = day.productionWh.reduce((a, b) => a + b, 0);
    expect(run.output()).toContain(PRODUCER);
    expect(run.output()).toMatch(new RegExp(`2025-06-01\\t96\\t-\\t-\\t${Math.floor(production / 1000)}\\.${String(production % 1000).padStart(3, '0')}\\t`));
  });

  it('refuses a broken message with its reason and exit code 2', async () => {
    const broken = join(dir, 'broken.xml');
    await writeFile(broken, (await readFile(fixture('consumer-a-2025-06-01.xml'), 'utf8')).replace('<cp:MeteringIntervall>QH', '<cp:MeteringIntervall>H'));
    const run = runGridshare(['eda', 'inspect', broken]);
    expect(await run.exited).toBe(2);
    expect(run.output()).toContain('unsupported_interval');
    expect(run.output()).toContain('only quarter hours (QH) are supported');
  });

  it('refuses an unknown time zone', async () => {
    const run = runGridshare(['eda', 'inspect', '--time-zone', 'Mars/Olympus', fixture('producer-2025-06-01.xml')]);
    expect(await run.exited).toBe(2);
    expect(run.output()).toContain('unknown time zone');
  });
});
