/**
 * Builds EDA ConsumptionRecord messages for tests, following the structure documented in
 * server/src/sharing/eda/README.md (ebUtilities schema 01.30–01.41), and a small Austrian
 * community whose operator allocation is computed here independently of the code under test.
 */
import { createLocalClock } from '../../../../src/kernel/calendar.js';
import { mulberry32 } from '../../../../src/simulator/random.js';

export const VIENNA = createLocalClock('Europe/Vienna');
export const QH = 900_000;

export const COMMUNITY_ID = 'AT00100000000RC100001000000000001';
export const CONSUMER_A = 'AT0010000000000000001000000000001';
export const CONSUMER_B = 'AT0010000000000000001000000000002';
export const PRODUCER = 'AT0010000000000000001000000000101';

const CP = 'http://www.ebutilities.at/schemata/customerprocesses/consumptionrecord/';
const CT = 'http://www.ebutilities.at/schemata/customerprocesses/common/types/01p20';

/** Local wall-clock time with its offset, as EDA writes it: 2025-10-26T02:45:00+01:00. */
export function viennaTime(utcMs: number): string {
  const offset = VIENNA.offsetMs(utcMs);
  const local = new Date(utcMs + offset).toISOString().slice(0, 19);
  const minutes = Math.abs(offset) / 60_000;
  const sign = offset < 0 ? '-' : '+';
  return `${local}${sign}${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

/** UTC instants of a local day in Vienna: [start, end) of the day starting at local midnight. */
export function viennaDay(isoDate: string): { startMs: number; endMs: number; count: number } {
  const [y, m, d] = isoDate.split('-').map(Number) as [number, number, number];
  const startMs = VIENNA.toUtc(Date.UTC(y, m - 1, d));
  const endMs = VIENNA.toUtc(Date.UTC(y, m - 1, d + 1));
  return { startMs, endMs, count: (endMs - startMs) / QH };
}

/** kWh text of whole mWh with the given number of decimals (3 for measured, 6 for computed values). */
export function kwh(milliWh: number, decimals: 3 | 6 = 6): string {
  const sign = milliWh < 0 ? '-' : '';
  const abs = Math.abs(milliWh);
  const text = `${Math.floor(abs / 1_000_000)}.${String(abs % 1_000_000).padStart(6, '0')}`;
  return sign + (decimals === 3 ? text.slice(0, text.length - 3) : text);
}

export interface SeriesSpec {
  readonly code: string;
  /** BQ texts, one per quarter hour. */
  readonly values: readonly string[];
  /** MM per position, or one for all (default L1). */
  readonly methods?: readonly string[] | string;
  readonly unit?: string;
}

export interface EnergySpec {
  readonly startMs: number;
  readonly count: number;
  readonly series: readonly SeriesSpec[];
  readonly reason?: string;
  readonly interval?: string;
}

export interface MessageSpec {
  readonly meteringPoint: string;
  readonly energy: readonly EnergySpec[];
  readonly version?: '01.30' | '01.31' | '01.40' | '01.41';
  readonly communityId?: string | null;
  /** Prefix of the record namespace; '' makes it the default namespace. */
  readonly prefix?: string;
  readonly commonPrefix?: string;
  readonly messageId?: string;
  readonly createdMs?: number;
  readonly documentMode?: 'PROD' | 'SIMU';
}

function tag(prefix: string, name: string): string {
  return prefix ? `${prefix}:${name}` : name;
}

export function consumptionRecordXml(spec: MessageSpec): string {
  const version = spec.version ?? '01.41';
  const p = spec.prefix ?? 'cp';
  const c = spec.commonPrefix ?? 'ct';
  const withTimes = version >= '01.40';
  const r = (name: string) => tag(p, name);
  const t = (name: string) => tag(c, name);
  const ns = `${p ? `xmlns:${p}` : 'xmlns'}="${CP}${version.replace('.', 'p')}" xmlns:${c}="${CT}"`;
  const created = spec.createdMs ?? spec.energy[spec.energy.length - 1]!.startMs + spec.energy[spec.energy.length - 1]!.count * QH + 3 * 3_600_000;
  const lines: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<${r('ConsumptionRecord')} ${ns}>`,
    `  <${r('MarketParticipantDirectory')} SchemaVersion="${version}" DocumentMode="${spec.documentMode ?? 'PROD'}" Duplicate="false">`,
    `    <${t('RoutingHeader')}>`,
    `      <${t('Sender')} AddressType="ECNumber"><${t('MessageAddress')}>AT001000</${t('MessageAddress')}></${t('Sender')}>`,
    `      <${t('Receiver')} AddressType="ECNumber"><${t('MessageAddress')}>RC100001</${t('MessageAddress')}></${t('Receiver')}>`,
    `      <${t('DocumentCreationDateTime')}>${viennaTime(created)}</${t('DocumentCreationDateTime')}>`,
    `    </${t('RoutingHeader')}>`,
    `    <${t('Sector')}>01</${t('Sector')}>`,
    `    <${r('MessageCode')}>DATEN_CRMSG</${r('MessageCode')}>`,
    `  </${r('MarketParticipantDirectory')}>`,
    `  <${r('ProcessDirectory')}>`,
    `    <${t('MessageId')}>${spec.messageId ?? `AT001000${spec.meteringPoint.slice(-12)}${spec.energy[0]!.startMs / QH}`.slice(0, 35)}</${t('MessageId')}>`,
    `    <${t('ConversationId')}>AT001000CONV${spec.meteringPoint.slice(-10)}</${t('ConversationId')}>`,
    `    <${t('ProcessDate')}>${viennaTime(created).slice(0, 10)}</${t('ProcessDate')}>`,
    `    <${t('MeteringPoint')}>${spec.meteringPoint}</${t('MeteringPoint')}>`,
  ];
  const communityId = spec.communityId === undefined ? COMMUNITY_ID : spec.communityId;
  if (communityId !== null && version >= '01.40') lines.push(`    <${r('ECID')}>${communityId}</${r('ECID')}>`);
  for (const energy of spec.energy) {
    lines.push(`    <${r('Energy')}>`);
    if (energy.reason !== undefined) lines.push(`      <${r('MeteringReason')}>${energy.reason}</${r('MeteringReason')}>`);
    lines.push(
      `      <${r('MeteringPeriodStart')}>${viennaTime(energy.startMs)}</${r('MeteringPeriodStart')}>`,
      `      <${r('MeteringPeriodEnd')}>${viennaTime(energy.startMs + energy.count * QH)}</${r('MeteringPeriodEnd')}>`,
      `      <${r('MeteringIntervall')}>${energy.interval ?? 'QH'}</${r('MeteringIntervall')}>`,
      `      <${r('NumberOfMeteringIntervall')}>${energy.count}</${r('NumberOfMeteringIntervall')}>`,
    );
    for (const series of energy.series) {
      lines.push(`      <${r('EnergyData')} MeterCode="${series.code}" UOM="${series.unit ?? 'KWH'}">`);
      series.values.forEach((value, k) => {
        const from = energy.startMs + k * QH;
        const method = typeof series.methods === 'string' ? series.methods : (series.methods?.[k] ?? 'L1');
        lines.push(
          `        <${r('EP')}>`,
          `          <${r('DTF')}>${viennaTime(from)}</${r('DTF')}>`,
          ...(withTimes ? [`          <${r('DTT')}>${viennaTime(from + QH)}</${r('DTT')}>`, `          <${r('MM')}>${method}</${r('MM')}>`] : []),
          `          <${r('BQ')}>${value}</${r('BQ')}>`,
          `        </${r('EP')}>`,
        );
      });
      lines.push(`      </${r('EnergyData')}>`);
    }
    lines.push(`    </${r('Energy')}>`);
  }
  lines.push(`  </${r('ProcessDirectory')}>`, `</${r('ConsumptionRecord')}>`, '');
  return lines.join('\n');
}

export interface CommunityDay {
  readonly startMs: number;
  readonly count: number;
  /** Per consumer (A, B): measured consumption in whole Wh per quarter hour. */
  readonly consumptionWh: readonly (readonly number[])[];
  /** The producer's feed-in in whole Wh per quarter hour. */
  readonly productionWh: readonly number[];
  /** Static key: consumer shares in percent (A 60, B 40). */
  readonly sharesPercent: readonly number[];
  /** Community share G.02 and own coverage G.03 per consumer, exact mWh. */
  readonly shareMilliWh: readonly (readonly number[])[];
  readonly coverageMilliWh: readonly (readonly number[])[];
  /** The producer's remaining surplus P.01T, exact mWh. */
  readonly surplusMilliWh: readonly number[];
}

/**
 * One local day of a community with two consumers and a PV producer, allocated by a static key
 * (60 % / 40 %), capped at each consumer's consumption per quarter hour, the rest a surplus.
 */
export function communityDay(isoDate: string, seed = 1): CommunityDay {
  const { startMs, count } = viennaDay(isoDate);
  const next = mulberry32(seed);
  const shares = [60, 40];
  const consumption = shares.map(() => Array.from({ length: count }, () => 40 + Math.floor(next() * 180)));
  const production = Array.from({ length: count }, (_, k) => {
    const hour = VIENNA.local(startMs + k * QH).minute / 60;
    const sun = Math.sin(((hour - 6) / 14) * Math.PI);
    return sun > 0 ? Math.floor(sun * 900 * (0.7 + 0.3 * next())) : 0;
  });
  const shareMilliWh = shares.map((share) => production.map((wh) => (wh * 1000 * share) / 100));
  const coverageMilliWh = shareMilliWh.map((series, i) => series.map((mwh, k) => Math.min(mwh, consumption[i]![k]! * 1000)));
  const surplusMilliWh = production.map((wh, k) => wh * 1000 - coverageMilliWh.reduce((sum, series) => sum + series[k]!, 0));
  return { startMs, count, consumptionWh: consumption, productionWh: production, sharesPercent: shares, shareMilliWh, coverageMilliWh, surplusMilliWh };
}

/** The operator's messages for one community day: one per Zählpunkt, with every code. */
export function communityMessages(day: CommunityDay, options: { methods?: string } = {}): { consumerA: string; consumerB: string; producer: string } {
  const consumer = (i: number, meteringPoint: string) => consumptionRecordXml({
    meteringPoint,
    energy: [{
      startMs: day.startMs, count: day.count, reason: '00',
      series: [
        { code: '1-1:1.9.0 G.01', values: day.consumptionWh[i]!.map((wh) => kwh(wh * 1000, 3)), methods: options.methods ?? 'L1' },
        { code: '1-1:1.9.0 G.01T', values: day.consumptionWh[i]!.map((wh) => kwh(wh * 1000, 3)), methods: options.methods ?? 'L1' },
        { code: '1-1:2.9.0 G.02', values: day.shareMilliWh[i]!.map((v) => kwh(v)), methods: options.methods ?? 'L1' },
        { code: '1-1:2.9.0 G.03', values: day.coverageMilliWh[i]!.map((v) => kwh(v)), methods: options.methods ?? 'L1' },
      ],
    }],
  });
  return {
    consumerA: consumer(0, CONSUMER_A),
    consumerB: consumer(1, CONSUMER_B),
    producer: consumptionRecordXml({
      meteringPoint: PRODUCER,
      energy: [{
        startMs: day.startMs, count: day.count, reason: '00',
        series: [
          { code: '1-1:2.9.0 G.01', values: day.productionWh.map((wh) => kwh(wh * 1000, 3)), methods: options.methods ?? 'L1' },
          { code: '1-1:2.9.0 G.01T', values: day.productionWh.map((wh) => kwh(wh * 1000, 3)), methods: options.methods ?? 'L1' },
          { code: '1-1:2.9.0 P.01T', values: day.surplusMilliWh.map((v) => kwh(v)), methods: options.methods ?? 'L1' },
        ],
      }],
    }),
  };
}
