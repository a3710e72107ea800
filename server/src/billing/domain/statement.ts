import { energyCost, formatMinor, formatNano, minorDigits, parseFixed, parseNano, roundToMinor, type Nano } from '../../kernel/money.js';
import { tariffSchedule, type PricesAt, type TariffVersion } from './tariff-schedule.js';
import { ENERGY_KEYS, type Co2Intensity, type EnergyBySource, type MemberInterval, type Quality } from '../../kernel/energy.js';
import { QUARTER_HOUR_MS } from '../../kernel/time.js';
import { billingText } from './catalog.js';


export interface StatementInput {
  readonly memberId: string;
  readonly periodStartMs: number;
  readonly periodEndMs: number;
  readonly timeZone: string;
  readonly currency: string;
  readonly intervals: readonly MemberInterval[];
  readonly tariffs: readonly TariffVersion[];
  readonly co2: Co2Intensity;
  /** The member's flexibility rewards of Periods in the statement's period (flex's `flexRewardsOfPeriods`), in its currency. */
  readonly flexRewards?: readonly FlexRewardInput[];
  /** The community's locale: the language of the reward and market lines' descriptions. */
  readonly locale?: string;
  /** The member's part of the local market in the period (market's `marketStatementFacts`). */
  readonly market?: MarketInput;
}

export type MarketLineKind = 'sale' | 'purchase' | 'grid-fee' | 'balancing-surplus' | 'balancing-shortfall' | 'dispute-correction';

/** The market's lines of one kind summed over the period, exact, signed as the market signs them (+: the member receives). */
export interface MarketLineInput {
  readonly kind: MarketLineKind;
  /** Settlement corrections after late meter data, or dispute corrections. */
  readonly correction: boolean;
  readonly energyWh: number;
  readonly amount: Nano;
  /** Slots (or disputes) summed. */
  readonly count: number;
}

export interface MarketInput {
  /** Quarter hours the market settled for the member: the market prices all their energy there, the tariff lines leave them out. */
  readonly settledSlotsMs: readonly number[];
  readonly lines: readonly MarketLineInput[];
}

/** One kind of market line on the statement, signed as statement lines are (+: owed by the member). */
export interface MarketLine {
  readonly kind: MarketLineKind;
  readonly correction: boolean;
  readonly description: string;
  readonly energyWh: number;
  readonly count: number;
  /** Rounded once, in the currency. */
  readonly amount: string;
  readonly exactAmount: string;
}

/**
 * The local market's part of a statement. Paid through the member's market wallet as each slot
 * settled, so it has a total of its own and is not in the statement's total (what an invoice bills).
 */
export interface MarketSection {
  /** Quarter hours priced by the market instead of the tariff. */
  readonly quarterHours: number;
  readonly lines: readonly MarketLine[];
  /** Σ of the rounded market lines. */
  readonly total: string;
}

/** What the DSO paid for one order, the member's share of it: a credit on their statement. */
export interface FlexRewardInput {
  readonly orderReference: string;
  /** The order's Period, a local date. */
  readonly period: string;
  readonly contributionWh: number;
  /** Whole minor units of the currency, ≥ 0 (the community bears negative nets). */
  readonly amountMinor: bigint;
}

export type TariffLineCode = 'community-energy' | 'community-sales' | 'grid-fee-reduction';
export type LineCode = TariffLineCode | 'flex-reward';

export type StatementLine = TariffLine | FlexRewardLine;

export interface TariffLine {
  readonly code: TariffLineCode;
  readonly description: string;
  readonly tariffId: string;
  readonly energyWh: number;
  /** Price per kWh of the line, as the tariff states it. */
  readonly unitPrice: string;
  /** Rounded once, in the currency; positive is owed by the member, negative is owed to them. */
  readonly amount: string;
  /** The exact amount before rounding, for audits. */
  readonly exactAmount: string;
}

/** A member's share of an order's flexibility remuneration, credited (negative: owed to the member). */
export interface FlexRewardLine {
  readonly code: 'flex-reward';
  readonly description: string;
  readonly orderReference: string;
  /** The order's Period (local date). */
  readonly orderPeriod: string;
  /** The member's measured contribution: energy moved in the ordered direction. */
  readonly energyWh: number;
  readonly amount: string;
  /** Equal to the amount: the reward is shared in whole minor units. */
  readonly exactAmount: string;
}

export interface Statement {
  readonly memberId: string;
  readonly periodStart: string;
  readonly periodEnd: string;
  readonly currency: string;
  readonly lines: readonly StatementLine[];
  /** Σ of the rounded line amounts, so the total always equals the sum of its lines. */
  readonly total: string;
  readonly energy: EnergyBySource;
  /** What the member saved against buying all consumption from the grid and selling all production at the feed-in price. */
  readonly savings: string;
  readonly co2AvoidedKg: string;
  /** Intervals without a tariff in force (not billed). */
  readonly unpricedIntervals: number;
  /** Only for a member who traded on the local market or had a market dispute corrected. */
  readonly market?: MarketSection;
}

export class StatementError extends Error {}

/**
 * Whom statements and invoices are for: members, and a manager only with a site of their own. A
 * manager who only runs the community is no member to bill, and the community battery they hold
 * is the community's (`hasSite` leaves it out), whatever energy sharing books on their row for it.
 */
export const isBilledRole = (m: { readonly role: 'member' | 'manager'; readonly hasSite: boolean }): boolean => m.role === 'member' || m.hasSite;

/** The catalog's text of a tariff line (shared with the invoice's charge rows): "Energy from the community ({tariff})". */
export const tariffLineKey = (code: TariffLineCode) => `invoice.charge.${code}` as const;

/**
 * A member's statement for one period. Pure: every amount is exact until each line is
 * rounded once (half away from zero, to the currency's minor unit); the total is the sum of the
 * rounded lines, and a line exists per tariff version in force during the period.
 */
export function buildStatement(input: StatementInput): Statement {
  const accumulator = new StatementAccumulator(new StatementPricing(input), input);
  for (const interval of input.intervals) {
    accumulator.addQuarter(interval.startMs, interval.selfConsumedWh, interval.fromCommunityWh, interval.fromGridWh, interval.toCommunityWh,
      interval.toGridWh, interval.billedFromCommunityWh ?? interval.fromCommunityWh, interval.gridOriginCommunityWh ?? 0);
  }
  return accumulator.statement();
}

/** The period and what prices it: the same for every member of a settlement. */
export interface PricingInput {
  readonly periodStartMs: number;
  readonly periodEndMs: number;
  readonly timeZone: string;
  readonly tariffs: readonly TariffVersion[];
  readonly co2: Co2Intensity;
}

const NOT_LOOKED_UP = -2;
const UNPRICED = -1;

/**
 * A period's prices per quarter hour, shared by every member's accumulator: each quarter hour's
 * price segment (the tariff version and grid price in force: quarter hours of one segment are
 * priced alike, so their energy can be summed before it is priced) and its CO2 intensity, each
 * looked up once per quarter hour of the period whatever the number of members.
 */
export class StatementPricing {
  readonly periodStartMs: number;
  readonly periodEndMs: number;
  /** The prices of each segment, by segment number. */
  readonly segments: PricesAt[] = [];
  /** Micrograms of CO2 per Wh (grams per kWh × 1000; the store keeps 3 decimals), by intensity number. */
  readonly co2MicrogramsPerWh: bigint[] = [];
  private readonly pricesAt: (utcMs: number) => PricesAt | undefined;
  private readonly co2: Co2Intensity;
  private readonly firstQuarter: number;
  private readonly segmentOfQuarter: Int32Array;
  private readonly intensityOfQuarter: Int32Array;
  private readonly segmentNumbers = new Map<string, number>();
  private readonly intensityNumbers = new Map<number, number>();

  constructor(input: PricingInput) {
    if (input.periodEndMs <= input.periodStartMs) throw new StatementError('the period must end after it starts');
    this.periodStartMs = input.periodStartMs;
    this.periodEndMs = input.periodEndMs;
    this.pricesAt = tariffSchedule(input.tariffs, input.timeZone);
    this.co2 = input.co2;
    this.firstQuarter = Math.floor(input.periodStartMs / QUARTER_HOUR_MS);
    const quarters = Math.ceil(input.periodEndMs / QUARTER_HOUR_MS) - this.firstQuarter;
    this.segmentOfQuarter = new Int32Array(quarters).fill(NOT_LOOKED_UP);
    this.intensityOfQuarter = new Int32Array(quarters).fill(NOT_LOOKED_UP);
  }

  /** The quarter hour's position in the period; refuses an instant outside it or between quarter hours. */
  quarterOf(startMs: number): number {
    if (!(startMs >= this.periodStartMs && startMs < this.periodEndMs)) {
      throw new StatementError(`interval ${Number.isFinite(startMs) ? new Date(startMs).toISOString() : String(startMs)} lies outside the period`);
    }
    if (startMs % QUARTER_HOUR_MS !== 0) throw new StatementError(`interval ${new Date(startMs).toISOString()} does not start on a quarter hour`);
    return startMs / QUARTER_HOUR_MS - this.firstQuarter;
  }

  /** The segment of the quarter hour at `quarter` (quarterOf), or UNPRICED without a tariff in force. */
  segmentOf(quarter: number, startMs: number): number {
    const known = this.segmentOfQuarter[quarter]!;
    if (known !== NOT_LOOKED_UP) return known;
    const prices = this.pricesAt(startMs);
    let segment = UNPRICED;
    if (prices) {
      const key = `${prices.tariff.id}|${prices.grid}`;
      segment = this.segmentNumbers.get(key) ?? this.segments.length;
      if (segment === this.segments.length) {
        this.segmentNumbers.set(key, segment);
        this.segments.push(prices);
      }
    }
    this.segmentOfQuarter[quarter] = segment;
    return segment;
  }

  /** The number of the CO2 intensity at the quarter hour at `quarter`. */
  intensityOf(quarter: number, startMs: number): number {
    const known = this.intensityOfQuarter[quarter]!;
    if (known !== NOT_LOOKED_UP) return known;
    const gramsPerKWh = this.co2.kind === 'constant' ? this.co2.gramsPerKWh
      : this.co2.gramsPerKWh.get(Math.floor(startMs / 3_600_000) * 3_600_000) ?? this.co2.fallback;
    let intensity = this.intensityNumbers.get(gramsPerKWh);
    if (intensity === undefined) {
      const micrograms = Math.round(gramsPerKWh * 1000);
      if (!Number.isSafeInteger(micrograms) || Math.abs(gramsPerKWh * 1000 - micrograms) > 1e-6) {
        throw new StatementError(`the CO2 intensity ${gramsPerKWh} g/kWh has more than 3 decimals`);
      }
      intensity = this.co2MicrogramsPerWh.length;
      this.intensityNumbers.set(gramsPerKWh, intensity);
      this.co2MicrogramsPerWh.push(BigInt(micrograms));
    }
    this.intensityOfQuarter[quarter] = intensity;
    return intensity;
  }
}

/** The columns of a member's quarter hours an accumulator reads (sharing's `MemberEnergyColumns` carries them). */
export interface EnergyColumns {
  readonly startsMs: readonly number[];
  readonly selfConsumedWh: readonly number[];
  readonly fromCommunityWh: readonly number[];
  readonly fromGridWh: readonly number[];
  readonly toCommunityWh: readonly number[];
  readonly toGridWh: readonly number[];
  readonly allocatedFromCommunityWh: readonly number[];
  readonly communityGridOriginWh: readonly number[];
  readonly quality: readonly Quality[];
  readonly provisional: readonly boolean[];
}

/** Whole Wh of one member in one price segment, summed: every amount of the statement is linear in them. */
interface SegmentSums {
  selfConsumedWh: number;
  /** Community energy billed (allocated to the import). */
  billedWh: number;
  toCommunityWh: number;
  /** In quarter hours the market settled: the member's whole consumption and production. */
  marketConsumptionWh: number;
  marketProductionWh: number;
  /** Whether a quarter hour had billed or sold community energy: the statement's lines are those (a line of 0 Wh is none). */
  billed: boolean;
  sold: boolean;
}

/** What the accumulator needs besides the quarter hours to write the statement. */
export type StatementParts = Pick<StatementInput, 'memberId' | 'currency' | 'flexRewards' | 'locale' | 'market'>;

/**
 * One member's statement summed a chunk of quarter hours at a time: energy in whole Wh per price
 * segment and per CO2 intensity, so a settlement never holds a member's month of quarter hours.
 * Amounts are priced once per segment at the end (`Wh × price` is exact, so the sum of a segment
 * priced once is the sum of its quarter hours priced one by one); CO2 in integer micrograms,
 * rounded once to grams. What it says equals `buildStatement` over the same quarter hours.
 */
export class StatementAccumulator {
  private readonly bySegment: SegmentSums[] = [];
  private readonly whByIntensity: number[] = [];
  private readonly marketSlots: ReadonlySet<number>;
  private readonly energy = { consumptionWh: 0, selfConsumedWh: 0, fromCommunityWh: 0, fromGridWh: 0, productionWh: 0, toCommunityWh: 0, toGridWh: 0 };
  private unpriced = 0;
  private readonly counts = { withData: 0, estimated: 0, provisional: 0 };

  constructor(private readonly pricing: StatementPricing, private readonly parts: StatementParts) {
    this.marketSlots = new Set(parts.market?.settledSlotsMs ?? []);
  }

  /** One quarter hour of the member's energy (each quarter hour once). */
  addQuarter(startMs: number, selfConsumedWh: number, fromCommunityWh: number, fromGridWh: number, toCommunityWh: number, toGridWh: number,
    billedWh: number, gridOriginWh: number): void {
    const pricing = this.pricing;
    const quarter = pricing.quarterOf(startMs);
    const energy = this.energy;
    energy.selfConsumedWh += selfConsumedWh;
    energy.fromCommunityWh += fromCommunityWh;
    energy.fromGridWh += fromGridWh;
    energy.toCommunityWh += toCommunityWh;
    energy.toGridWh += toGridWh;
    const intensity = pricing.intensityOf(quarter, startMs);
    this.whByIntensity[intensity] = (this.whByIntensity[intensity] ?? 0) + selfConsumedWh + fromCommunityWh - gridOriginWh;
    const segment = pricing.segmentOf(quarter, startMs);
    if (segment === UNPRICED) {
      this.unpriced += 1;
      return;
    }
    const sums = this.bySegment[segment] ??= { selfConsumedWh: 0, billedWh: 0, toCommunityWh: 0, marketConsumptionWh: 0, marketProductionWh: 0, billed: false, sold: false };
    // The market settled the member's whole metered exchange of this quarter hour (trades, then
    // balancing): billing it at the tariff as well would bill the same energy twice. Its savings
    // against the baseline are the baseline's cost of that exchange plus what the market paid and
    // charged for it (its settlement lines, summed in `statement`).
    if (this.marketSlots.size > 0 && this.marketSlots.has(startMs)) {
      sums.marketConsumptionWh += selfConsumedWh + fromCommunityWh + fromGridWh;
      sums.marketProductionWh += toCommunityWh + toGridWh;
      return;
    }
    sums.selfConsumedWh += selfConsumedWh;
    sums.billedWh += billedWh;
    sums.toCommunityWh += toCommunityWh;
    if (billedWh !== 0) sums.billed = true;
    if (toCommunityWh !== 0) sums.sold = true;
  }

  /** A chunk of the member's stored quarter hours: those with data are priced, all are counted (`quarterCounts`). */
  addColumns(columns: EnergyColumns): void {
    const n = columns.startsMs.length;
    for (let i = 0; i < n; i++) {
      if (columns.provisional[i]) this.counts.provisional += 1;
      const quality = columns.quality[i];
      if (quality === 'missing') continue;
      this.counts.withData += 1;
      if (quality === 'estimated') this.counts.estimated += 1;
      this.addQuarter(columns.startsMs[i]!, columns.selfConsumedWh[i]!, columns.fromCommunityWh[i]!, columns.fromGridWh[i]!, columns.toCommunityWh[i]!,
        columns.toGridWh[i]!, columns.allocatedFromCommunityWh[i]!, columns.communityGridOriginWh[i]!);
    }
  }

  /** Quarter hours added through `addColumns`: with data (measured or estimated), estimated, and provisional (with or without data). */
  quarterCounts(): { withData: number; estimated: number; provisional: number } {
    return { ...this.counts };
  }

  /** The statement of every quarter hour added so far. */
  statement(): Statement {
    const { pricing, parts } = this;
    const digits = minorDigits(parts.currency);
    const lines = new Map<string, { code: TariffLineCode; tariff: TariffVersion; energyWh: number; exact: Nano }>();
    const addLine = (code: TariffLineCode, tariff: TariffVersion, wh: number, exact: Nano) => {
      const key = `${code}|${tariff.id}`;
      const line = lines.get(key) ?? { code, tariff, energyWh: 0, exact: 0n };
      line.energyWh += wh;
      line.exact += exact;
      lines.set(key, line);
    };
    let savings: Nano = 0n;
    this.bySegment.forEach((sums, segment) => {
      const prices = pricing.segments[segment]!;
      const { selfConsumedWh, billedWh, toCommunityWh } = sums;
      if (sums.billed) {
        addLine('community-energy', prices.tariff, billedWh, energyCost(billedWh, prices.community));
        addLine('grid-fee-reduction', prices.tariff, billedWh, -energyCost(billedWh, prices.gridFeeReduction));
      }
      if (sums.sold) addLine('community-sales', prices.tariff, toCommunityWh, -energyCost(toCommunityWh, prices.community));
      // Against the baseline "everything from the grid, everything sold at feed-in":
      savings += energyCost(selfConsumedWh, prices.grid)
        + energyCost(billedWh, prices.grid - prices.community + prices.gridFeeReduction)
        + energyCost(toCommunityWh, prices.community - prices.feedIn)
        + energyCost(sums.marketConsumptionWh, prices.grid) - energyCost(sums.marketProductionWh, prices.feedIn);
    });
    // What the market paid (+) and charged (−) for its quarter hours, settlement and corrections; a
    // dispute's correction is money given back, not a price of energy.
    for (const line of parts.market?.lines ?? []) if (line.kind !== 'dispute-correction') savings += line.amount;

    let co2Micrograms = 0n;
    this.whByIntensity.forEach((wh, intensity) => { co2Micrograms += wholeWh(wh) * pricing.co2MicrogramsPerWh[intensity]!; });

    const ordered = [...lines.values()].sort((a, b) =>
      a.tariff.validFrom.localeCompare(b.tariff.validFrom) || order(a.code) - order(b.code));
    let total = 0n;
    const locale = parts.locale ?? 'en';
    const statementLines: StatementLine[] = ordered.map((line) => {
      const rounded = roundToMinor(line.exact, digits);
      total += rounded;
      const price = line.code === 'grid-fee-reduction' ? line.tariff.gridFeeReduction : line.tariff.communityPrice;
      return {
        code: line.code,
        description: billingText(locale, tariffLineKey(line.code), { tariff: line.tariff.name }),
        tariffId: line.tariff.id,
        energyWh: line.energyWh,
        unitPrice: price,
        amount: formatMinor(rounded, digits),
        exactAmount: formatNano(line.exact),
      };
    });
    for (const reward of parts.flexRewards ?? []) {
      const line = flexRewardLine(reward, digits, locale);
      total += parseFixed(line.amount, digits);
      statementLines.push(line);
    }

    const { energy } = this;
    const market = parts.market && marketSection(parts.market, pricing, digits, locale);
    return {
      memberId: parts.memberId,
      periodStart: new Date(pricing.periodStartMs).toISOString(),
      periodEnd: new Date(pricing.periodEndMs).toISOString(),
      currency: parts.currency,
      lines: statementLines,
      total: formatMinor(total, digits),
      energy: {
        ...energy,
        consumptionWh: energy.selfConsumedWh + energy.fromCommunityWh + energy.fromGridWh,
        productionWh: energy.selfConsumedWh + energy.toCommunityWh + energy.toGridWh,
      },
      savings: formatMinor(roundToMinor(savings, digits), digits),
      co2AvoidedKg: formatMinor(microgramsToGrams(co2Micrograms), 3),
      unpricedIntervals: this.unpriced,
      ...(market ? { market } : {}),
    };
  }
}

/** Rounded once to whole grams, half away from zero. */
function microgramsToGrams(micrograms: bigint): bigint {
  const magnitude = micrograms < 0n ? -micrograms : micrograms;
  const grams = (magnitude + 500_000n) / 1_000_000n;
  return micrograms < 0n ? -grams : grams;
}

/** A sum of quarter hours' energy as a BigInt, refused unless whole Wh. */
function wholeWh(wh: number): bigint {
  if (!Number.isSafeInteger(wh)) throw new StatementError(`energy must be whole Wh, got ${wh}`);
  return BigInt(wh);
}

const MARKET_ORDER: readonly MarketLineKind[] = ['sale', 'purchase', 'grid-fee', 'balancing-surplus', 'balancing-shortfall', 'dispute-correction'];
const marketKey = (line: { kind: MarketLineKind; correction: boolean }) => `${line.correction ? 1 : 0}|${MARKET_ORDER.indexOf(line.kind)}`;

/** ICU selectors are identifiers: the kinds as the catalog names them. */
const MARKET_SELECTOR: Record<MarketLineKind, string> = {
  sale: 'sale', purchase: 'purchase', 'grid-fee': 'gridFee', 'balancing-surplus': 'surplus', 'balancing-shortfall': 'shortfall', 'dispute-correction': 'dispute',
};

/** A market line's text in the locale: on the statement in the community's, in the PDF in the reader's. */
export const marketLineText = (locale: string, line: { kind: MarketLineKind; correction: boolean }) =>
  billingText(locale, 'statement.line.market', { kind: MARKET_SELECTOR[line.kind], correction: String(line.correction) });

/** Lines of a kind summed, each rounded once (settlement first, then corrections, in a fixed order of kinds); undefined without any. */
function marketSection(market: MarketInput, period: { periodStartMs: number; periodEndMs: number }, digits: number, locale: string): MarketSection | undefined {
  for (const slot of market.settledSlotsMs) {
    if (slot < period.periodStartMs || slot >= period.periodEndMs) throw new StatementError(`market slot ${new Date(slot).toISOString()} lies outside the period`);
  }
  const sums = new Map<string, MarketLineInput>();
  for (const line of market.lines) {
    const key = marketKey(line);
    const sum = sums.get(key);
    sums.set(key, sum ? { ...sum, energyWh: sum.energyWh + line.energyWh, amount: sum.amount + line.amount, count: sum.count + line.count } : line);
  }
  if (sums.size === 0 && market.settledSlotsMs.length === 0) return undefined;
  let total = 0n;
  const lines = [...sums.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, line]): MarketLine => {
    const exact = -line.amount;
    const rounded = roundToMinor(exact, digits);
    total += rounded;
    return {
      kind: line.kind, correction: line.correction, description: marketLineText(locale, line), energyWh: line.energyWh, count: line.count,
      amount: formatMinor(rounded, digits), exactAmount: formatNano(exact),
    };
  });
  return { quarterHours: new Set(market.settledSlotsMs).size, lines, total: formatMinor(total, digits) };
}

/** The difference of the market sections issued so far and a fresh one, by kind and correction; undefined when none has one. */
function marketCorrection(issued: readonly Statement[], fresh: Statement, digits: number): MarketSection | undefined {
  const sections = issued.flatMap((s) => (s.market ? [s.market] : []));
  if (!fresh.market && sections.length === 0) return undefined;
  interface Acc { line: MarketLine; energyWh: number; count: number; amount: bigint; exact: Nano }
  const sum = (list: readonly MarketSection[]) => {
    const lines = new Map<string, Acc>();
    let quarterHours = 0;
    for (const section of list) {
      quarterHours += section.quarterHours;
      for (const line of section.lines) {
        const key = marketKey(line);
        const acc = lines.get(key) ?? { line, energyWh: 0, count: 0, amount: 0n, exact: 0n };
        lines.set(key, {
          line, energyWh: acc.energyWh + line.energyWh, count: acc.count + line.count,
          amount: acc.amount + parseFixed(line.amount, digits), exact: acc.exact + parseNano(line.exactAmount),
        });
      }
    }
    return { lines, quarterHours };
  };
  const before = sum(sections);
  const after = sum(fresh.market ? [fresh.market] : []);
  let total = 0n;
  const lines: MarketLine[] = [];
  for (const key of [...new Set([...after.lines.keys(), ...before.lines.keys()])].sort()) {
    const a = after.lines.get(key);
    const b = before.lines.get(key);
    const amount = (a?.amount ?? 0n) - (b?.amount ?? 0n);
    const energyWh = (a?.energyWh ?? 0) - (b?.energyWh ?? 0);
    const count = (a?.count ?? 0) - (b?.count ?? 0);
    const exact = (a?.exact ?? 0n) - (b?.exact ?? 0n);
    if (amount === 0n && energyWh === 0 && count === 0 && exact === 0n) continue;
    total += amount;
    lines.push({ ...(a ?? b)!.line, energyWh, count, amount: formatMinor(amount, digits), exactAmount: formatNano(exact) });
  }
  const quarterHours = after.quarterHours - before.quarterHours;
  if (lines.length === 0 && quarterHours === 0) return undefined;
  return { quarterHours, lines, total: formatMinor(total, digits) };
}

/** A reward is a credit of whole minor units: its exact amount is its rounded one. */
function flexRewardLine(reward: FlexRewardInput, digits: number, locale: string): FlexRewardLine {
  if (reward.amountMinor < 0n) throw new StatementError(`the reward for order ${reward.orderReference} is negative`);
  const credit = -reward.amountMinor;
  return {
    code: 'flex-reward',
    description: billingText(locale, 'statement.line.flex-reward', { orderReference: reward.orderReference, period: reward.period }),
    orderReference: reward.orderReference,
    orderPeriod: reward.period,
    energyWh: reward.contributionWh,
    amount: formatMinor(credit, digits),
    exactAmount: formatNano(credit * 10n ** BigInt(9 - digits)),
  };
}

/** Lines are matched across a statement and its corrections by what they bill: a tariff's component, or an order's reward. */
const lineKey = (line: StatementLine) => (line.code === 'flex-reward' ? `${line.code}|${line.orderPeriod}|${line.orderReference}` : `${line.code}|${line.tariffId}`);

const order = (code: TariffLineCode) => ['community-energy', 'community-sales', 'grid-fee-reduction'].indexOf(code);

type Energy = EnergyBySource;

/**
 * The correction that brings what was issued for a member and period (the statement and the
 * corrections so far) to a fresh statement: per line (code and tariff) the difference in energy
 * and in rounded amount, never a silent change of what was issued. Its total is the sum of its
 * lines, so issued totals + corrections = the fresh total exactly. Undefined when nothing changed.
 */
export function correctionFor(issued: readonly Statement[], fresh: Statement): Statement | undefined {
  const digits = minorDigits(fresh.currency);
  interface Acc { line: StatementLine; energyWh: number; amount: bigint; exact: Nano }
  const sums = (statements: readonly Statement[]) => {
    const lines = new Map<string, Acc>();
    const energy: Record<keyof Energy, number> = { consumptionWh: 0, selfConsumedWh: 0, fromCommunityWh: 0, fromGridWh: 0, productionWh: 0, toCommunityWh: 0, toGridWh: 0 };
    let savings = 0n;
    let co2Grams = 0n;
    let unpriced = 0;
    for (const s of statements) {
      for (const line of s.lines) {
        const key = lineKey(line);
        const acc = lines.get(key) ?? { line, energyWh: 0, amount: 0n, exact: 0n };
        acc.energyWh += line.energyWh;
        acc.amount += parseFixed(line.amount, digits);
        acc.exact += parseNano(line.exactAmount);
        lines.set(key, acc);
      }
      for (const k of ENERGY_KEYS) energy[k] += s.energy[k];
      savings += parseFixed(s.savings, digits);
      co2Grams += parseFixed(s.co2AvoidedKg, 3);
      unpriced += s.unpricedIntervals;
    }
    return { lines, energy, savings, co2Grams, unpriced };
  };
  const before = sums(issued);
  const after = sums([fresh]);
  const keys = [...after.lines.keys(), ...[...before.lines.keys()].filter((k) => !after.lines.has(k))];
  let total = 0n;
  const lines: StatementLine[] = [];
  for (const key of keys) {
    const a = after.lines.get(key);
    const b = before.lines.get(key);
    const energyWh = (a?.energyWh ?? 0) - (b?.energyWh ?? 0);
    const amount = (a?.amount ?? 0n) - (b?.amount ?? 0n);
    if (energyWh === 0 && amount === 0n) continue;
    total += amount;
    const line = (a ?? b)!.line;
    lines.push({ ...line, energyWh, amount: formatMinor(amount, digits), exactAmount: formatNano((a?.exact ?? 0n) - (b?.exact ?? 0n)) });
  }
  const energy = Object.fromEntries(ENERGY_KEYS.map((k) => [k, after.energy[k] - before.energy[k]])) as unknown as Energy;
  const savings = after.savings - before.savings;
  const co2 = after.co2Grams - before.co2Grams;
  const market = marketCorrection(issued, fresh, digits);
  if (lines.length === 0 && !market && ENERGY_KEYS.every((k) => energy[k] === 0) && savings === 0n && co2 === 0n) return undefined;
  return {
    memberId: fresh.memberId,
    periodStart: fresh.periodStart,
    periodEnd: fresh.periodEnd,
    currency: fresh.currency,
    lines,
    total: formatMinor(total, digits),
    energy,
    savings: formatMinor(savings, digits),
    co2AvoidedKg: formatMinor(co2, 3),
    unpricedIntervals: after.unpriced - before.unpriced,
    ...(market ? { market } : {}),
  };
}

/** How complete the data behind a statement was. */
export interface QuarterHourCounts {
  /** Quarter hours in the period (2,980 for a Vienna October with its 25-hour day). */
  expected: number;
  /** Quarter hours with the member's data (measured or estimated). */
  withData: number;
  estimated: number;
  missing: number;
  /** Quarter hours whose split was made while another member's data was missing. */
  provisional: number;
}

/** What a statement row keeps: the pure statement and what the member and a reader need besides. */
export interface StatementDocument extends Statement {
  displayName: string;
  communityName: string;
  period: string;
  timeZone: string;
  quarterHours: QuarterHourCounts;
}

/**
 * The statement's personal fields: what an erasure replaces by the member's pseudonym
 * (`pseudonymiseStatements`), so the verifiable record also commits to the statement without them.
 */
export const PERSONAL_STATEMENT_FIELDS = ['displayName'] as const satisfies readonly (keyof StatementDocument)[];

/** A stored statement as its member, managers and documents see it. */
export interface StatementView extends StatementDocument {
  id: string;
  settlementId: string;
  communityId: string;
  state: 'draft' | 'closed';
  kind: 'statement' | 'correction';
  sequence: number;
  createdAt: string;
}
