import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { formatNano, type MicroPrice } from '../kernel/money.js';
import { BadRequestError } from '../kernel/errors.js';
import { clearSlot, formatMarketPrice, mechanismNames, parseMarketPrice, pricingProblems, type CommunityPricing } from './domain/index.js';
import { formatTradesCsv, OrderFileError, ORDER_COLUMNS, parseOrdersCsv, TRADE_COLUMNS, type LineProblem } from './order-file.js';

/**
 * `gridshare market clear`: clears one slot's orders offline, so anyone can check a slot's
 * result from its published orders. The file is read and checked whole before anything is
 * written; the trades go to a temporary file renamed into place, so bad input leaves no
 * partial result. Clearing a slot takes milliseconds: there is no progress to show.
 */
export interface ClearOptions {
  readonly orders: string;
  readonly mechanism: string;
  readonly out: string;
  readonly gridFee?: MicroPrice | undefined;
  readonly floor?: MicroPrice | undefined;
  readonly ceiling?: MicroPrice | undefined;
}

export interface ClearSummary {
  readonly mechanism: string;
  readonly orders: number;
  readonly bids: number;
  readonly offers: number;
  readonly trades: number;
  /** Uniform: the slot's one price; null for pay-as-bid or without trades. */
  readonly clearingPrice: string | null;
  /** Lowest and highest trade price (pay-as-bid trades at many). */
  readonly lowestPrice: string | null;
  readonly highestPrice: string | null;
  readonly volumeWh: number;
  /** Σ (bid − offer) × energy, exact, in the currency. */
  readonly welfare: string;
  /** Σ grid fee × energy, exact, in the currency. */
  readonly gridFees: string;
  readonly out: string;
}

/** 10,000 orders are under 1 MB; a file beyond this is not a slot's book. */
const MAX_FILE_BYTES = 64 * 1024 * 1024;

export async function runClear(options: ClearOptions): Promise<ClearSummary> {
  const pricing: CommunityPricing = { gridFee: options.gridFee ?? 0n, floor: options.floor, ceiling: options.ceiling };
  const pricingIssues = pricingProblems(pricing);
  if (pricingIssues.length > 0) throw new BadRequestError(pricingIssues.join('; '));
  if (!mechanismNames().includes(options.mechanism)) {
    throw new BadRequestError(`unknown mechanism "${options.mechanism}"; choose one of: ${mechanismNames().join(', ')}`);
  }
  const size = await stat(options.orders).then((s) => s.size, (error: NodeJS.ErrnoException) => {
    throw new BadRequestError(error.code === 'ENOENT' ? `orders file ${options.orders} does not exist` : `cannot read ${options.orders}: ${error.message}`);
  });
  if (size > MAX_FILE_BYTES) throw new BadRequestError(`orders file ${options.orders} is larger than ${MAX_FILE_BYTES / 1024 / 1024} MiB`);
  const { orders } = parseOrdersCsv(await readFile(options.orders, 'utf8'), pricing);
  const result = clearSlot(options.mechanism, orders, pricing);

  const tmp = `${options.out}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, formatTradesCsv(result.trades));
    await rename(tmp, options.out);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
  const prices = result.trades.map((t) => t.price);
  const lowest = prices.reduce<MicroPrice | undefined>((m, p) => (m === undefined || p < m ? p : m), undefined);
  const highest = prices.reduce<MicroPrice | undefined>((m, p) => (m === undefined || p > m ? p : m), undefined);
  const bids = orders.filter((o) => o.side === 'buy').length;
  return {
    mechanism: result.mechanism,
    orders: orders.length,
    bids,
    offers: orders.length - bids,
    trades: result.trades.length,
    clearingPrice: result.clearingPrice === undefined ? null : formatMarketPrice(result.clearingPrice),
    lowestPrice: lowest === undefined ? null : formatMarketPrice(lowest),
    highestPrice: highest === undefined ? null : formatMarketPrice(highest),
    volumeWh: result.volumeWh,
    welfare: formatNano(result.welfare),
    gridFees: formatNano(result.gridFees),
    out: options.out,
  };
}

function formatSummary(s: ClearSummary): string {
  const price = s.clearingPrice !== null
    ? `clearing price ${s.clearingPrice} per kWh`
    : s.lowestPrice === null ? 'no trades: the best bid is below the best offer (or a side is empty)'
    : `prices ${s.lowestPrice} … ${s.highestPrice} per kWh (each trade at the resting order's price)`;
  return [
    `Cleared ${s.orders.toLocaleString('en')} orders (${s.bids.toLocaleString('en')} bids, ${s.offers.toLocaleString('en')} offers) with ${s.mechanism}: ${s.trades.toLocaleString('en')} trades`,
    `  ${price}`,
    `  volume ${s.volumeWh.toLocaleString('en')} Wh`,
    `  welfare ${s.welfare} (Σ (bid − offer) × energy)`,
    ...(s.gridFees !== '0' ? [`  grid fees ${s.gridFees}`] : []),
    `  written to ${s.out}`,
  ].join('\n');
}

function priceOption(value: string): MicroPrice {
  const price = parseMarketPrice(value);
  if (price === undefined) throw new InvalidArgumentError('a price per kWh ≥ 0 with at most 4 decimal places, e.g. 0.0450');
  return price;
}

export function registerMarketCommands(program: Command): void {
  const market = program.command('market').description('The local energy market, offline');
  market
    .command('clear')
    .description('Clear one delivery slot\'s orders: an orders CSV in, a trades CSV out. A file with bad rows is refused as a whole, naming every bad line.')
    .requiredOption('--orders <file>', `orders CSV: ${ORDER_COLUMNS.join(',')} (side buy|sell, whole Wh, price per kWh with at most 4 places, UTC ISO time)`)
    .addOption(new Option('--mechanism <name>', 'clearing mechanism').choices(mechanismNames()).default('uniform'))
    .requiredOption('--out <file>', `trades CSV to write: ${TRADE_COLUMNS.join(',')}`)
    .option('--grid-fee <price>', 'grid fee per kWh charged to buyers on top of the trade price; bids are matched less it', priceOption)
    .option('--floor <price>', 'lowest trade price per kWh (e.g. the feed-in tariff); offers below it are refused', priceOption)
    .option('--ceiling <price>', 'highest trade price per kWh (e.g. the grid price less the grid fee); bids above it plus the fee are refused', priceOption)
    .option('--json', 'print the summary (or the bad lines) as JSON', false)
    .action(async (opts: { orders: string; mechanism: string; out: string; gridFee?: MicroPrice; floor?: MicroPrice; ceiling?: MicroPrice; json: boolean }) => {
      try {
        const summary = await runClear(opts);
        process.stdout.write(opts.json ? `${JSON.stringify(summary, null, 2)}\n` : `${formatSummary(summary)}\n`);
      } catch (error) {
        if (!(error instanceof OrderFileError)) throw error;
        const problems: readonly LineProblem[] = error.problems;
        if (opts.json) process.stdout.write(`${JSON.stringify({ error: 'bad_orders', file: opts.orders, problems }, null, 2)}\n`);
        else process.stderr.write(`gridshare: ${opts.orders} refused, ${problems.length} bad line(s), nothing written:\n${error.message}\n`);
        process.exitCode = 1;
      }
    });
}
