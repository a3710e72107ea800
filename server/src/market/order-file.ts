import { CsvError, parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { parseUtcInstant } from '../kernel/time.js';
import { formatMarketPrice, MAX_ORDER_WH, orderProblems, parseMarketPrice, type ClearingOrder, type CommunityPricing, type Side, type Trade } from './domain/index.js';

/**
 * The offline order and trade files of `gridshare market clear`.
 *
 *   orders  order_id,member_id,side,energy_wh,price_per_kwh,submitted_at
 *           (side buy|sell, whole Wh, price with at most 4 places, UTC ISO time)
 *   trades  buy_order_id,sell_order_id,energy_wh,price_per_kwh
 *
 * A file with bad rows is refused as a whole, naming every bad line: clearing a book without
 * some of its orders would give the others a different result than the one they are owed.
 */
export const ORDER_COLUMNS = ['order_id', 'member_id', 'side', 'energy_wh', 'price_per_kwh', 'submitted_at'] as const;
export const TRADE_COLUMNS = ['buy_order_id', 'sell_order_id', 'energy_wh', 'price_per_kwh'] as const;

export interface LineProblem {
  readonly line: number;
  readonly message: string;
}

export class OrderFileError extends Error {
  constructor(readonly problems: readonly LineProblem[], summary?: string) {
    super(summary ?? problems.map((p) => `line ${p.line}: ${p.message}`).join('\n'));
    this.name = 'OrderFileError';
  }
}

interface CsvRecord {
  readonly line: number;
  readonly fields: readonly string[];
}

/**
 * Records with their line numbers. The whole text is parsed at once; only when it is not
 * valid CSV is it parsed again line by line, so that every malformed line is named, not just
 * the first (an order file has no fields that span lines).
 */
function records(text: string): { records: CsvRecord[]; problems: LineProblem[] } {
  try {
    const lineOf: number[] = [];
    const rows = parse(text, {
      bom: true, relax_column_count: true, skip_empty_lines: true,
      on_record: (fields: string[], context) => {
        lineOf.push(context.lines);
        return fields;
      },
    });
    return { records: rows.map((fields, i) => ({ line: lineOf[i]!, fields })), problems: [] };
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
  }
  const found: CsvRecord[] = [];
  const problems: LineProblem[] = [];
  text.replace(/^\uFEFF/, '').split(/\r?\n/).forEach((lineText, index) => {
    if (lineText.trim() === '') return;
    try {
      const [fields] = parse(lineText, { relax_column_count: true }) as string[][];
      found.push({ line: index + 1, fields: fields ?? [] });
    } catch (error) {
      if (!(error instanceof CsvError)) throw error;
      problems.push({ line: index + 1, message: `not valid CSV (${error.message.replace(/ at line \d+/, '').replace(/:.*$/, '')})` });
    }
  });
  return { records: found, problems };
}

function rowProblems(fields: readonly string[]): { order?: ClearingOrder; problems: string[] } {
  if (fields.length !== ORDER_COLUMNS.length) return { problems: [`expected ${ORDER_COLUMNS.length} fields, found ${fields.length}`] };
  const [id, memberId, side, energy, priceText, submitted] = fields as [string, string, string, string, string, string];
  const problems: string[] = [];
  if (id.trim() === '') problems.push('order_id is empty');
  if (memberId.trim() === '') problems.push('member_id is empty');
  if (side !== 'buy' && side !== 'sell') problems.push(`side "${side}" is neither buy nor sell`);
  const energyWh = /^\d{1,9}$/.test(energy) ? Number(energy) : Number.NaN;
  if (!(energyWh >= 1 && energyWh <= MAX_ORDER_WH)) problems.push(`energy_wh "${energy}" is not a whole number of Wh from 1 to ${MAX_ORDER_WH}`);
  const price = parseMarketPrice(priceText);
  if (price === undefined) problems.push(`price_per_kwh "${priceText}" is not a price ≥ 0 with at most 4 decimal places`);
  const submittedAtMs = parseUtcInstant(submitted);
  if (submittedAtMs === undefined) problems.push(`submitted_at "${submitted}" is not a UTC ISO time like 2025-06-01T08:45:00Z`);
  if (problems.length > 0) return { problems };
  return { order: { id, memberId, side: side as Side, energyWh, price: price!, submittedAtMs: submittedAtMs! }, problems };
}

/** The orders of an order file, each with its line, or an OrderFileError naming every bad line. */
export function parseOrdersCsv(text: string, pricing: CommunityPricing): { orders: ClearingOrder[]; lines: number[] } {
  const { records: rows, problems } = records(text);
  const [header, ...body] = rows;
  if (!header) throw new OrderFileError([{ line: 1, message: 'the file is empty' }]);
  if (header.fields.map((f) => f.trim().toLowerCase()).join(',') !== ORDER_COLUMNS.join(',')) {
    problems.push({ line: header.line, message: `the header must be ${ORDER_COLUMNS.join(',')}, found ${header.fields.join(',')}` });
  }
  const orders: ClearingOrder[] = [];
  const lines: number[] = [];
  const firstLine = new Map<string, number>();
  for (const row of body) {
    const parsed = rowProblems(row.fields);
    const messages = parsed.problems;
    if (parsed.order) {
      messages.push(...orderProblems(parsed.order, pricing));
      const first = firstLine.get(parsed.order.id);
      if (first !== undefined) messages.push(`order_id ${parsed.order.id} is used before, on line ${first}`);
      else firstLine.set(parsed.order.id, row.line);
    }
    if (messages.length > 0) problems.push({ line: row.line, message: messages.join('; ') });
    else {
      orders.push(parsed.order!);
      lines.push(row.line);
    }
  }
  if (problems.length > 0) throw new OrderFileError(problems.sort((a, b) => a.line - b.line));
  return { orders, lines };
}

export function formatTradesCsv(trades: readonly Trade[]): string {
  return stringify(trades.map((t) => [t.buyOrderId, t.sellOrderId, t.energyWh, formatMarketPrice(t.price)]), { header: true, columns: [...TRADE_COLUMNS] });
}
