import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EdaMessageError, parseConsumptionRecord, type EdaErrorReason } from '../../../src/operator/domain/index.js';
import { fixtureFiles, FIXTURE_DIR } from './support/fixtures.js';
import { communityDay, consumptionRecordXml, CONSUMER_A, COMMUNITY_ID, QH, viennaDay } from './support/messages.js';

const fixture = (name: string) => readFileSync(`${FIXTURE_DIR}${name}`, 'utf8');

/** A short message: two quarter hours of consumption and coverage from 2025-06-01 00:00 Vienna (22:00 UTC the day before). */
const START = Date.UTC(2025, 4, 31, 22, 0);
function small(overrides: Partial<Parameters<typeof consumptionRecordXml>[0]> = {}) {
  return consumptionRecordXml({
    meteringPoint: CONSUMER_A,
    energy: [{ startMs: START, count: 2, series: [
      { code: '1-1:1.9.0 G.01', values: ['0.123', '0.0735'] },
      { code: '1-1:2.9.0 G.03', values: ['0.100000', '0.050000'], methods: ['L1', 'L3'] },
    ] }],
    ...overrides,
  });
}

function refusal(input: string | Uint8Array, options = {}): EdaMessageError {
  try {
    parseConsumptionRecord(input, options);
  } catch (error) {
    expect(error).toBeInstanceOf(EdaMessageError);
    expect((error as EdaMessageError).code).toBe('bad_request');
    return error as EdaMessageError;
  }
  throw new Error('the message was accepted');
}

function expectRefused(input: string | Uint8Array, reason: EdaErrorReason, field?: RegExp, options = {}) {
  const error = refusal(input, options);
  expect(error.reason).toBe(reason);
  if (field) expect(error.field).toMatch(field);
}

describe('parseConsumptionRecord on realistic messages', () => {
  it('the committed fixtures are what the scenario builder makes', () => {
    for (const [name, text] of Object.entries(fixtureFiles())) expect(fixture(name), name).toBe(text);
  });

  it('reads a consumer day of 96 quarter hours with its header, exactly', () => {
    const record = parseConsumptionRecord(fixture('consumer-a-2025-06-01.xml'));
    const day = communityDay('2025-06-01', 1);
    expect(record).toMatchObject({
      schemaVersion: '01.41', documentMode: 'PROD', duplicate: false, messageCode: 'DATEN_CRMSG',
      sender: 'AT001000', receiver: 'RC100001', meteringPoint: CONSUMER_A, communityId: COMMUNITY_ID, unknownCodes: [],
    });
    expect(record.energy).toHaveLength(1);
    const [block] = record.energy;
    expect(block).toMatchObject({ meteringReason: '00', periodStartMs: Date.UTC(2025, 4, 31, 22), periodEndMs: Date.UTC(2025, 5, 1, 22), intervalCount: 96 });
    expect(block!.series.map((s) => s.meterCode)).toEqual(['1-1:1.9.0 G.01', '1-1:1.9.0 G.01T', '1-1:2.9.0 G.02', '1-1:2.9.0 G.03']);
    const [consumption, , share, coverage] = block!.series;
    expect(consumption!.positions.map((p) => p.wh)).toEqual(day.consumptionWh[0]);
    expect(share!.positions.map((p) => p.milliWh)).toEqual(day.shareMilliWh[0]);
    expect(coverage!.positions.map((p) => p.milliWh)).toEqual(day.coverageMilliWh[0]);
    expect(consumption!.positions.map((p) => p.startMs)).toEqual(Array.from({ length: 96 }, (_, k) => block!.periodStartMs + k * QH));
    expect(new Set(coverage!.positions.map((p) => p.quality))).toEqual(new Set(['measured']));
  });

  it.each([
    ['consumer-a-2025-10-26-100qh.xml', '2025-10-26', 100],
    ['consumer-a-2025-03-30-92qh.xml', '2025-03-30', 92],
  ])('reads the DST day %s as %s quarter hours in UTC', (name, date, count) => {
    const record = parseConsumptionRecord(fixture(name));
    const { startMs, endMs } = viennaDay(date);
    const [block] = record.energy;
    expect(block).toMatchObject({ periodStartMs: startMs, periodEndMs: endMs, intervalCount: count });
    for (const series of block!.series) {
      expect(series.positions.map((p) => p.startMs)).toEqual(Array.from({ length: count }, (_, k) => startMs + k * QH));
    }
  });

  it('on the autumn change, the two local 02:00–02:15 are two UTC quarter hours an hour apart', () => {
    const text = fixture('consumer-a-2025-10-26-100qh.xml');
    expect(text).toContain('<cp:DTF>2025-10-26T02:00:00+02:00</cp:DTF>');
    expect(text).toContain('<cp:DTF>2025-10-26T02:00:00+01:00</cp:DTF>');
    const starts = parseConsumptionRecord(text).energy[0]!.series[0]!.positions.map((p) => p.startMs);
    expect(starts).toContain(Date.UTC(2025, 9, 26, 0, 0));
    expect(starts).toContain(Date.UTC(2025, 9, 26, 1, 0));
  });

  it('reads several Energy blocks (two days) with other prefixes', () => {
    const record = parseConsumptionRecord(fixture('consumer-a-2025-03-29-and-30-two-blocks.xml'));
    expect(record.energy.map((e) => e.intervalCount)).toEqual([96, 92]);
    expect(record.energy[1]!.periodStartMs).toBe(record.energy[0]!.periodEndMs);
  });

  it('resolves namespaces, not prefixes: default namespace, cp:, ns0: read the same', () => {
    const reference = parseConsumptionRecord(small());
    expect(parseConsumptionRecord(small({ prefix: '' }))).toEqual(reference);
    expect(parseConsumptionRecord(small({ prefix: 'ns0', commonPrefix: 'ns1' }))).toEqual(reference);
  });

  it('ignores elements of foreign namespaces, even with an EDA name', () => {
    const text = small().replace('<cp:Energy>', '<x:Energy xmlns:x="urn:example"><x:MeteringIntervall>H</x:MeteringIntervall></x:Energy><cp:Energy>');
    expect(parseConsumptionRecord(text)).toEqual(parseConsumptionRecord(small()));
  });

  it('reads kWh exactly into mWh and rounds once to whole Wh, half away from zero', () => {
    const values = ['0.0735', '0.0745', '0.000499', '0.0005', '1.', '+0.25', '2147483.647', ' 0.010 '];
    const text = consumptionRecordXml({ meteringPoint: CONSUMER_A, energy: [{ startMs: START, count: values.length, series: [{ code: '1-1:1.9.0 G.01', values }] }] });
    const positions = parseConsumptionRecord(text).energy[0]!.series[0]!.positions;
    expect(positions.map((p) => p.milliWh)).toEqual([73_500, 74_500, 499, 500, 1_000_000, 250_000, 2_147_483_647_000, 10_000]);
    expect(positions.map((p) => p.wh)).toEqual([74, 75, 0, 1, 1000, 250, 2_147_483_647, 10]);
  });

  it('keeps the metering method and its quality per position', () => {
    const coverage = parseConsumptionRecord(small()).energy[0]!.series[1]!;
    expect(coverage.positions.map((p) => [p.method, p.quality])).toEqual([['L1', 'measured'], ['L3', 'provisional']]);
    const methods = ['L2', '01'];
    const text = consumptionRecordXml({ meteringPoint: CONSUMER_A, energy: [{ startMs: START, count: 2, series: [{ code: '1-1:1.9.0 G.01', values: ['1', '2'], methods }] }] });
    expect(parseConsumptionRecord(text).energy[0]!.series[0]!.positions.map((p) => p.quality)).toEqual(['substitute', 'unspecified']);
  });

  it('reads 01.30 messages without DTT and MM (quality unspecified) and without ECID', () => {
    const record = parseConsumptionRecord(small({ version: '01.30' }));
    expect(record.schemaVersion).toBe('01.30');
    expect(record.communityId).toBeNull();
    expect(record.energy[0]!.series[0]!.positions).toEqual([
      { startMs: START, milliWh: 123_000, wh: 123, method: null, quality: 'unspecified' },
      { startMs: START + QH, milliWh: 73_500, wh: 74, method: null, quality: 'unspecified' },
    ]);
  });

  it('keeps unknown codes, even negative, and lists them', () => {
    const text = consumptionRecordXml({ meteringPoint: CONSUMER_A, energy: [{ startMs: START, count: 1, series: [
      { code: '1-1:1.9.0 G.01', values: ['0.1'] },
      { code: '1-1:9.9.9  X.99', values: ['-0.5'] },
    ] }] });
    const record = parseConsumptionRecord(text);
    expect(record.unknownCodes).toEqual(['1-1:9.9.9 X.99']);
    expect(record.energy[0]!.series[1]).toMatchObject({ meterCode: '1-1:9.9.9 X.99', known: false, positions: [{ milliWh: -500_000, wh: -500 }] });
  });

  it('accepts a Buffer with a byte-order mark, and the same text as a string', () => {
    const text = small();
    expect(parseConsumptionRecord(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]))).toEqual(parseConsumptionRecord(text));
  });
});

describe('parseConsumptionRecord refuses', () => {
  const text = small();
  const replace = (from: string | RegExp, to: string) => {
    const changed = text.replace(from, to);
    expect(changed).not.toBe(text);
    return changed;
  };

  it.each<[string, () => string, EdaErrorReason, RegExp?]>([
    ['malformed XML', () => text.slice(0, -30), 'malformed_xml'],
    ['an unclosed tag', () => replace('</cp:BQ>', ''), 'malformed_xml'],
    ['text and elements mixed', () => replace('<cp:DTF>', 'oops<cp:DTF>'), 'malformed_xml'],
    ['another root element', () => text.replaceAll('ConsumptionRecord', 'CMRequest'), 'not_a_consumption_record'],
    ['the root in another namespace', () => replace('customerprocesses/consumptionrecord/01p41', 'customerprocesses/cprequest/01p12'), 'not_a_consumption_record'],
    ['an unknown schema version', () => text.replace('consumptionrecord/01p41', 'consumptionrecord/01p50').replace('SchemaVersion="01.41"', 'SchemaVersion="01.50"'), 'unsupported_version'],
    ['a SchemaVersion that contradicts the namespace', () => replace('SchemaVersion="01.41"', 'SchemaVersion="01.30"'), 'unsupported_version'],
    ['a missing Zählpunkt', () => replace(/<ct:MeteringPoint>.*<\/ct:MeteringPoint>/, ''), 'missing_element', /MeteringPoint$/],
    ['two Zählpunkte', () => replace(/(<ct:MeteringPoint>.*<\/ct:MeteringPoint>)/, '$1$1'), 'repeated_element', /MeteringPoint$/],
    ['a Zählpunkt of 32 characters', () => replace(CONSUMER_A, CONSUMER_A.slice(0, 32)), 'invalid_value', /MeteringPoint$/],
    ['a Zählpunkt not starting with AT', () => replace(CONSUMER_A, `DE${CONSUMER_A.slice(2)}`), 'invalid_value'],
    ['no Energy', () => replace(/<cp:Energy>[\s\S]*<\/cp:Energy>/, ''), 'missing_element'],
    ['hourly values', () => replace('<cp:MeteringIntervall>QH<', '<cp:MeteringIntervall>H<'), 'unsupported_interval'],
    ['MWH', () => replace('UOM="KWH"', 'UOM="MWH"'), 'unsupported_unit', /UOM$/],
    ['NaN', () => replace('<cp:BQ>0.123</cp:BQ>', '<cp:BQ>NaN</cp:BQ>'), 'bad_quantity', /EP\[1\]\/BQ$/],
    ['an exponent', () => replace('<cp:BQ>0.123</cp:BQ>', '<cp:BQ>1e3</cp:BQ>'), 'bad_quantity'],
    ['a decimal comma', () => replace('<cp:BQ>0.123</cp:BQ>', '<cp:BQ>0,123</cp:BQ>'), 'bad_quantity'],
    ['seven decimals', () => replace('<cp:BQ>0.123</cp:BQ>', '<cp:BQ>0.1234567</cp:BQ>'), 'bad_quantity'],
    ['an empty quantity', () => replace('<cp:BQ>0.123</cp:BQ>', '<cp:BQ></cp:BQ>'), 'bad_quantity'],
    ['a negative consumption', () => replace('<cp:BQ>0.123</cp:BQ>', '<cp:BQ>-0.123</cp:BQ>'), 'negative_quantity'],
    ['2.2 GWh in a quarter hour', () => replace('<cp:BQ>0.123</cp:BQ>', '<cp:BQ>2147484.000</cp:BQ>'), 'implausible_quantity'],
    ['ten-digit kWh', () => replace('<cp:BQ>0.123</cp:BQ>', '<cp:BQ>9999999999.999999</cp:BQ>'), 'implausible_quantity'],
    ['a missing position', () => replace(/<cp:EP>[\s\S]*?<\/cp:EP>/, ''), 'count_mismatch', /EnergyData\[1\]$/],
    ['a count that contradicts the period', () => replace('<cp:NumberOfMeteringIntervall>2<', '<cp:NumberOfMeteringIntervall>3<'), 'period_mismatch'],
    ['a count of zero', () => replace('<cp:NumberOfMeteringIntervall>2<', '<cp:NumberOfMeteringIntervall>0<'), 'invalid_value'],
    ['a time off the quarter-hour grid', () => replace('<cp:DTF>2025-06-01T00:15:00+02:00</cp:DTF>', '<cp:DTF>2025-06-01T00:07:00+02:00</cp:DTF>'), 'bad_time'],
    ['a time without offset', () => replace('<cp:DTF>2025-06-01T00:15:00+02:00</cp:DTF>', '<cp:DTF>2025-06-01T00:15:00</cp:DTF>'), 'bad_time'],
    ['an impossible date', () => replace('<cp:MeteringPeriodStart>2025-06-01', '<cp:MeteringPeriodStart>2025-02-30'), 'bad_time'],
    ['DTT not 15 minutes after DTF', () => replace('<cp:DTT>2025-06-01T00:15:00+02:00</cp:DTT>', '<cp:DTT>2025-06-01T00:30:00+02:00</cp:DTT>'), 'position_outside_period'],
    ['a position outside the period', () => text.replaceAll('2025-06-01T00:15:00+02:00</cp:DTF>', '2025-06-01T00:30:00+02:00</cp:DTF>').replaceAll('2025-06-01T00:30:00+02:00</cp:DTT>', '2025-06-01T00:45:00+02:00</cp:DTT>'), 'position_outside_period'],
    ['the same quarter hour twice', () => text.replaceAll('<cp:DTF>2025-06-01T00:15:00+02:00</cp:DTF>', '<cp:DTF>2025-06-01T00:00:00+02:00</cp:DTF>').replaceAll('<cp:DTT>2025-06-01T00:30:00+02:00</cp:DTT>', '<cp:DTT>2025-06-01T00:15:00+02:00</cp:DTT>'), 'duplicate_position'],
    ['an unknown metering method', () => replace('<cp:MM>L3</cp:MM>', '<cp:MM>L9</cp:MM>'), 'invalid_value', /MM$/],
    ['a meter code longer than 25 characters', () => replace('MeterCode="1-1:2.9.0 G.03"', 'MeterCode="1-1:2.9.0 G.03 and much more text"'), 'invalid_value'],
    ['a bad message id', () => replace(/<ct:MessageId>[^<]*</, '<ct:MessageId>id with blanks<'), 'invalid_value'],
    ['an empty message code', () => replace('DATEN_CRMSG', ''), 'invalid_value', /MessageCode$/],
  ])('%s', (_, make, reason, field) => expectRefused(make(), reason, field));

  it('the same code for the same quarter hour in two Energy blocks', () => {
    const block = { startMs: START, count: 1, series: [{ code: '1-1:1.9.0 G.01', values: ['0.1'] }] };
    expectRefused(consumptionRecordXml({ meteringPoint: CONSUMER_A, energy: [block, block] }), 'duplicate_position', /Energy\[2\]/);
  });

  it('a DOCTYPE: billion laughs, quickly and without expanding', () => {
    const entities = Array.from({ length: 10 }, (_, k) => `<!ENTITY lol${k + 1} "${`&lol${k};`.repeat(10)}">`).join('');
    const bomb = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">${entities}]>${text.replace(/^<\?xml[^>]*>/, '').replace('DATEN_CRMSG', '&lol10;')}`;
    const started = performance.now();
    expectRefused(bomb, 'forbidden_xml');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('external entities', () => {
    expectRefused(`<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>${text.replace(/^<\?xml[^>]*>/, '').replace('DATEN_CRMSG', '&x;')}`, 'forbidden_xml');
  });

  it('an undeclared entity', () => expectRefused(replace('DATEN_CRMSG', '&x;'), 'malformed_xml'));

  it('a message over the size limit, before parsing it', () => {
    expectRefused(text, 'too_large', undefined, { maxBytes: 1000 });
    expectRefused(Buffer.from(text), 'too_large', undefined, { maxBytes: 1000 });
    const huge = `${text.slice(0, -1)}<!--${'x'.repeat(9 * 1024 * 1024)}-->`;
    expectRefused(huge, 'too_large');
  });

  it('nesting deeper than any ConsumptionRecord', () => {
    expectRefused(text.replace('<cp:Energy>', `${'<a>'.repeat(100)}${'</a>'.repeat(100)}<cp:Energy>`), 'too_large');
  });

  it('more elements than the limit', () => {
    expectRefused(text, 'too_large', undefined, { maxElements: 20 });
  });

  it('bytes that are not UTF-8, and a declared other encoding', () => {
    const bytes = Buffer.from(text.replace('DATEN_CRMSG', 'DATEN_CRMSG\u00e4'), 'latin1');
    expectRefused(bytes, 'not_utf8');
    expectRefused(replace('encoding="UTF-8"', 'encoding="ISO-8859-1"'), 'not_utf8');
  });

  it('an empty input, and text that is not XML', () => {
    expectRefused('', 'malformed_xml');
    expectRefused('{"not": "xml"}', 'malformed_xml');
  });

  it('names the field in the HTTP error message', () => {
    const error = refusal(replace('<cp:BQ>0.123</cp:BQ>', '<cp:BQ>NaN</cp:BQ>'));
    expect(error.code).toBe('bad_request');
    expect(error.field).toBe('ProcessDirectory/Energy[1]/EnergyData[1]/EP[1]/BQ');
    expect(error.message).toContain(error.field);
  });
});
