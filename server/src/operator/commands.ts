import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { createLocalClock } from '../kernel/calendar.js';
import { type ConsumptionRecord, type OperatorQuality, parseConsumptionRecord } from './domain/consumption-record.js';
import { EdaMessageError } from './domain/errors.js';
import { operatorFigures, type OperatorFigure } from './domain/figures.js';
import { formatKwh } from './domain/quantity.js';

/**
 * `gridshare eda inspect <file.xml…> [--json] [--time-zone Europe/Vienna]`: what the grid
 * operator sent, per Zählpunkt and local day. Several files are merged as the import would merge
 * them (later files replace earlier values for the same code and quarter hour).
 */
export interface DaySummary {
  readonly gridConnectionId: string;
  readonly communityId: string | null;
  /** Local calendar date in the chosen time zone. */
  readonly date: string;
  readonly quarterHours: number;
  /** Σ of each field over the day; null when no quarter hour had it. */
  readonly consumptionWh: number | null;
  readonly fromCommunityWh: number | null;
  readonly productionWh: number | null;
  readonly toCommunityWh: number | null;
  /** Σ per code, whole Wh. */
  readonly codes: Readonly<Record<string, number>>;
  /** Quarter hours per quality. */
  readonly quality: Readonly<Partial<Record<OperatorQuality, number>>>;
}

const FIELDS = ['consumptionWh', 'fromCommunityWh', 'productionWh', 'toCommunityWh'] as const;

interface MutableDay {
  gridConnectionId: string;
  communityId: string | null;
  date: string;
  quarterHours: number;
  consumptionWh: number | null;
  fromCommunityWh: number | null;
  productionWh: number | null;
  toCommunityWh: number | null;
  codes: Record<string, number>;
  quality: Partial<Record<OperatorQuality, number>>;
}

/** Operator figures summed per Zählpunkt, community and local day (figures come sorted by Zählpunkt and time). */
export function daySummaries(figures: readonly OperatorFigure[], timeZone: string): DaySummary[] {
  const clock = createLocalClock(timeZone);
  const days = new Map<string, MutableDay>();
  for (const figure of figures) {
    const date = new Date(clock.local(figure.startMs).day * 86_400_000).toISOString().slice(0, 10);
    const key = `${figure.gridConnectionId}|${figure.communityId ?? ''}|${date}`;
    let day = days.get(key);
    if (!day) {
      day = { gridConnectionId: figure.gridConnectionId, communityId: figure.communityId, date, quarterHours: 0, consumptionWh: null, fromCommunityWh: null, productionWh: null, toCommunityWh: null, codes: {}, quality: {} };
      days.set(key, day);
    }
    day.quarterHours += 1;
    for (const field of FIELDS) {
      const value = figure[field];
      if (value !== null) day[field] = (day[field] ?? 0) + value;
    }
    for (const [code, wh] of Object.entries(figure.raw)) day.codes[code] = (day.codes[code] ?? 0) + wh;
    day.quality[figure.quality] = (day.quality[figure.quality] ?? 0) + 1;
  }
  return [...days.values()];
}

function messageSummary(file: string, record: ConsumptionRecord) {
  return {
    file,
    messageId: record.messageId,
    conversationId: record.conversationId,
    schemaVersion: record.schemaVersion,
    documentMode: record.documentMode,
    messageCode: record.messageCode,
    meteringPoint: record.meteringPoint,
    communityId: record.communityId,
    energyBlocks: record.energy.length,
    unknownCodes: record.unknownCodes,
  };
}

const kwhOrDash = (wh: number | null) => (wh === null ? '-' : formatKwh(wh));

function textReport(messages: ReturnType<typeof messageSummary>[], days: readonly DaySummary[]): string {
  const lines: string[] = [];
  for (const m of messages) {
    lines.push(`${m.file}: ConsumptionRecord ${m.schemaVersion} ${m.messageCode} ${m.documentMode ?? ''} message ${m.messageId}, Zählpunkt ${m.meteringPoint}${m.communityId ? `, community ${m.communityId}` : ''}, ${m.energyBlocks} Energy block(s)`);
    if (m.unknownCodes.length > 0) lines.push(`  codes not interpreted: ${m.unknownCodes.join(', ')}`);
  }
  const header = ['date', 'QH', 'consumption', 'from community', 'production', 'to community', 'quality'];
  let current = '';
  for (const day of days) {
    const point = `${day.gridConnectionId}${day.communityId ? ` (community ${day.communityId})` : ''}`;
    if (point !== current) {
      current = point;
      lines.push('', point, `  ${header.join('\t')}   (kWh)`);
    }
    const quality = Object.entries(day.quality).map(([q, n]) => `${q} ${n}`).join(', ');
    lines.push(`  ${[day.date, day.quarterHours, kwhOrDash(day.consumptionWh), kwhOrDash(day.fromCommunityWh), kwhOrDash(day.productionWh), kwhOrDash(day.toCommunityWh), quality].join('\t')}`);
    lines.push(`    ${Object.entries(day.codes).map(([code, wh]) => `${code} ${formatKwh(wh)}`).join('; ')}`);
  }
  return `${lines.join('\n')}\n`;
}

export function registerEdaCommand(program: Command): void {
  const eda = program.command('eda').description('Austrian EDA energy-community data (grid operator allocation, ConsumptionRecord)');
  eda
    .command('inspect <files...>')
    .description('Print the grid operator\'s figures per Zählpunkt and day from EDA ConsumptionRecord XML files')
    .option('--json', 'print JSON instead of a table')
    .option('--time-zone <zone>', 'IANA time zone of the days', 'Europe/Vienna')
    .action(async (files: string[], options: { json?: boolean; timeZone: string }) => {
      try {
        createLocalClock(options.timeZone);
      } catch {
        process.stderr.write(`error: unknown time zone ${JSON.stringify(options.timeZone)}\n`);
        process.exit(2);
      }
      const records: ConsumptionRecord[] = [];
      const messages: ReturnType<typeof messageSummary>[] = [];
      for (const file of files) {
        try {
          const record = parseConsumptionRecord(await readFile(file));
          records.push(record);
          messages.push(messageSummary(file, record));
        } catch (error) {
          if (!(error instanceof EdaMessageError)) throw error;
          process.stderr.write(`error: ${file}: ${error.reason}: ${error.message}\n`);
          process.exit(2);
        }
      }
      const days = daySummaries(operatorFigures(records), options.timeZone);
      process.stdout.write(options.json ? `${JSON.stringify({ messages, days }, null, 2)}\n` : textReport(messages, days));
    });
}
