import { energyCost, formatMinor, formatNano, minorDigits, parseFixed, parseNano, roundToMinor, type Nano } from '../../kernel/money.js';
import { tariffSchedule, type TariffVersion } from './tariff-schedule.js';
import { ENERGY_KEYS, type Co2Intensity, type EnergyBySource, type MemberInterval } from '../../kernel/energy.js';
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
  if (input.periodEndMs <= input.periodStartMs) throw new StatementError('the period must end after it starts');
  const digits = minorDigits(input.currency);
  const pricesAt = tariffSchedule(input.tariffs, input.timeZone);
  const lines = new Map<string, { code: TariffLineCode; tariff: TariffVersion; energyWh: number; exact: Nano }>();
  const addLine = (code: TariffLineCode, tariff: TariffVersion, wh: number, exact: Nano) => {
    if (wh === 0) return;
    const key = `${code}|${tariff.id}`;
    const line = lines.get(key) ?? { code, tariff, energyWh: 0, exact: 0n };
    line.energyWh += wh;
    line.exact += exact;
    lines.set(key, line);
  };

  const marketSlots = new Set(input.market?.settledSlotsMs ?? []);
  const energy = { consumptionWh: 0, selfConsumedWh: 0, fromCommunityWh: 0, fromGridWh: 0, productionWh: 0, toCommunityWh: 0, toGridWh: 0 };
  let savings: Nano = 0n;
  let co2MilliGrams = 0;
  let unpriced = 0;
  for (const interval of input.intervals) {
    if (interval.startMs < input.periodStartMs || interval.startMs >= input.periodEndMs) {
      throw new StatementError(`interval ${new Date(interval.startMs).toISOString()} lies outside the period`);
    }
    const { selfConsumedWh, fromCommunityWh, fromGridWh, toCommunityWh, toGridWh } = interval;
    energy.selfConsumedWh += selfConsumedWh;
    energy.fromCommunityWh += fromCommunityWh;
    energy.fromGridWh += fromGridWh;
    energy.toCommunityWh += toCommunityWh;
    energy.toGridWh += toGridWh;
    energy.consumptionWh += selfConsumedWh + fromCommunityWh + fromGridWh;
    energy.productionWh += selfConsumedWh + toCommunityWh + toGridWh;
    const billedWh = interval.billedFromCommunityWh ?? fromCommunityWh;
    co2MilliGrams += (selfConsumedWh + fromCommunityWh - (interval.gridOriginCommunityWh ?? 0)) * co2At(input.co2, interval.startMs);

    const prices = pricesAt(interval.startMs);
    if (!prices) {
      unpriced += 1;
      continue;
    }
    // The market settled the member's whole metered exchange of this quarter hour (trades, then
    // balancing): billing it at the tariff as well would bill the same energy twice. Its savings
    // against the baseline are the baseline's cost of that exchange plus what the market paid and
    // charged for it (its settlement lines, summed below).
    if (marketSlots.has(interval.startMs)) {
      savings += energyCost(selfConsumedWh, prices.grid)
        + energyCost(fromCommunityWh + fromGridWh, prices.grid) - energyCost(toCommunityWh + toGridWh, prices.feedIn);
      continue;
    }
    addLine('community-energy', prices.tariff, billedWh, energyCost(billedWh, prices.community));
    addLine('community-sales', prices.tariff, toCommunityWh, -energyCost(toCommunityWh, prices.community));
    addLine('grid-fee-reduction', prices.tariff, billedWh, -energyCost(billedWh, prices.gridFeeReduction));
    // Against the baseline "everything from the grid, everything sold at feed-in":
    savings += energyCost(selfConsumedWh, prices.grid)
      + energyCost(billedWh, prices.grid - prices.community + prices.gridFeeReduction)
      + energyCost(toCommunityWh, prices.community - prices.feedIn);
  }

  // What the market paid (+) and charged (−) for its quarter hours, settlement and corrections; a
  // dispute's correction is money given back, not a price of energy.
  for (const line of input.market?.lines ?? []) if (line.kind !== 'dispute-correction') savings += line.amount;

  const ordered = [...lines.values()].sort((a, b) =>
    a.tariff.validFrom.localeCompare(b.tariff.validFrom) || order(a.code) - order(b.code));
  let total = 0n;
  const statementLines: StatementLine[] = ordered.map((line) => {
    const rounded = roundToMinor(line.exact, digits);
    total += rounded;
    const price = line.code === 'grid-fee-reduction' ? line.tariff.gridFeeReduction : line.tariff.communityPrice;
    return {
      code: line.code,
      description: billingText(input.locale ?? 'en', tariffLineKey(line.code), { tariff: line.tariff.name }),
      tariffId: line.tariff.id,
      energyWh: line.energyWh,
      unitPrice: price,
      amount: formatMinor(rounded, digits),
      exactAmount: formatNano(line.exact),
    };
  });
  for (const reward of input.flexRewards ?? []) {
    const line = flexRewardLine(reward, digits, input.locale ?? 'en');
    total += parseFixed(line.amount, digits);
    statementLines.push(line);
  }

  const market = input.market && marketSection(input.market, input, digits, input.locale ?? 'en');
  return {
    memberId: input.memberId,
    periodStart: new Date(input.periodStartMs).toISOString(),
    periodEnd: new Date(input.periodEndMs).toISOString(),
    currency: input.currency,
    lines: statementLines,
    total: formatMinor(total, digits),
    energy,
    savings: formatMinor(roundToMinor(savings, digits), digits),
    co2AvoidedKg: (Math.round(co2MilliGrams / 1000) / 1000).toFixed(3),
    unpricedIntervals: unpriced,
    ...(market ? { market } : {}),
  };
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

/** Grams of CO2 per kWh is milligrams per Wh. */
function co2At(co2: Co2Intensity, startMs: number): number {
  if (co2.kind === 'constant') return co2.gramsPerKWh;
  return co2.gramsPerKWh.get(Math.floor(startMs / 3_600_000) * 3_600_000) ?? co2.fallback;
}

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
