import { QUARTER_HOUR_MS } from '../../kernel/time.js';
import type { Quality } from '../../kernel/energy.js';
import { COMMUNITY_SHARE, CONSUMPTION_PARTICIPATING, CONSUMPTION_TOTAL, energyCode, OWN_COVERAGE } from './codes.js';
import type { OperatorQuality } from './consumption-record.js';
import { EdaInputError } from './errors.js';
import { generationAndSurplus, givenMilliWh, weakerQuality, type OperatorFigure } from './figures.js';
import { milliWhToWh } from './quantity.js';
import { DIFFERENCE_KINDS } from '@gridshare/contract/operator';

/**
 * Reconciliation of the grid operator's figures with Gridshare's own metered quarter hours.
 *
 * Metered intervals are given per Zählpunkt: a consumption Zählpunkt's figures are compared
 * with the import measured there, a generation Zählpunkt's with the export. (A prosumer has two
 * Zählpunkte; the caller passes its metered import under the one and its export under the other.)
 *
 * Allowances, so that rounding is never reported as a difference:
 * - operator vs metered: both are whole-Wh quarter-hour differences of meter registers with
 *   1 Wh resolution (kWh with three decimals is exactly whole Wh), so two correct meters can
 *   differ by 1 Wh in a quarter hour: differences of 1 Wh are not flagged;
 * - the operator's own order (coverage ≤ consumption, coverage ≤ share, surplus ≤ generation) is
 *   checked on the exact values as sent, with no allowance: rounding is monotone, so it cannot
 *   turn a ≤ into a >;
 * - the community balance (Σ coverage of consumers = Σ given by producers, per quarter hour) is
 *   a sum of values that the operator rounded one by one: 0.5 Wh is allowed per value sent.
 * On top, `tolerance` widens every comparison: a difference is flagged only when it exceeds the
 * allowance, `tolerance.wh`, and `tolerance.percent` of the larger of the two sides.
 */
export interface MeteredInterval {
  readonly gridConnectionId: string;
  /** UTC start of the quarter hour. */
  readonly startMs: number;
  /** Null when not measured (a gap is never a zero). */
  readonly importWh: number | null;
  readonly exportWh: number | null;
  readonly quality: Quality;
}

export interface Tolerance {
  readonly wh?: number;
  readonly percent?: number;
}

export { DIFFERENCE_KINDS };
export type DifferenceKind = (typeof DIFFERENCE_KINDS)[number];

export interface Difference {
  readonly kind: DifferenceKind;
  /** Null for the community balance. */
  readonly gridConnectionId: string | null;
  readonly startMs: number;
  /** The operator's value (Wh); null when missing. For the balance: Σ coverage of consumers. */
  readonly operatorWh: number | null;
  /** What it was compared with: the metered value, or the operator's own bound. For the balance: Σ given by producers. */
  readonly referenceWh: number | null;
  /** operatorWh − referenceWh (from the exact values where the operator's are compared with each other); null when a side is missing. */
  readonly differenceWh: number | null;
  /** The largest |difference| that would not have been flagged (may be fractional, e.g. 1.5). */
  readonly allowedWh: number;
  readonly operatorQuality: OperatorQuality | null;
  readonly meteredQuality: Quality | null;
}

export type PointRole = 'consumption' | 'generation' | 'unknown';

export interface PointSummary {
  readonly gridConnectionId: string;
  /** From the operator's codes; unknown for a Zählpunkt only in the metered data. */
  readonly role: PointRole;
  readonly operatorIntervals: number;
  readonly meteredIntervals: number;
  /** Quarter hours where the operator's measured value and ours could both be compared. */
  readonly comparedIntervals: number;
  /** Σ operator consumption (or generation) over the compared quarter hours. */
  readonly operatorWh: number;
  /** Σ metered import (or export) over the compared quarter hours. */
  readonly meteredWh: number;
  readonly differenceWh: number;
  /** Σ own coverage (consumption role) or given to the community (generation role), all quarter hours. */
  readonly communityWh: number;
  readonly flagged: number;
  readonly flaggedByKind: Readonly<Partial<Record<DifferenceKind, number>>>;
  /** The largest |differenceWh| among this point's comparisons (flagged or not); null if none. */
  readonly largestDifferenceWh: number | null;
}

export interface CommunitySummary {
  /** Quarter hours in which the balance could be checked. */
  readonly balancedIntervals: number;
  readonly imbalancedIntervals: number;
  readonly fromCommunityWh: number;
  readonly toCommunityWh: number;
}

export interface Reconciliation {
  /** Flagged differences, by time, then kind, then Zählpunkt. */
  readonly differences: readonly Difference[];
  readonly points: readonly PointSummary[];
  readonly community: CommunitySummary;
}

/** Rounding allowance of an operator-vs-metered comparison, in Wh. */
export const METERED_ALLOWANCE_WH = 1;
/** Rounding allowance per value in the community balance, in mWh. */
const BALANCE_ALLOWANCE_MILLI_WH_PER_VALUE = 500;

interface Threshold {
  readonly allowanceWh: number;
  readonly tolerance: Required<Tolerance>;
}

function allowed(threshold: Threshold, a: number, b: number): number {
  const percent = (threshold.tolerance.percent / 100) * Math.max(Math.abs(a), Math.abs(b));
  return Math.max(threshold.allowanceWh, threshold.tolerance.wh, percent);
}

function checkedTolerance(tolerance: Tolerance): Required<Tolerance> {
  const wh = tolerance.wh ?? 0;
  const percent = tolerance.percent ?? 0;
  if (!Number.isFinite(wh) || wh < 0) throw new EdaInputError('tolerance.wh must be a finite number ≥ 0', 'tolerance/wh');
  if (!Number.isFinite(percent) || percent < 0 || percent > 100) throw new EdaInputError('tolerance.percent must be between 0 and 100', 'tolerance/percent');
  return { wh, percent };
}

function checkInterval(startMs: number, gridConnectionId: string, what: string): void {
  if (!Number.isSafeInteger(startMs) || startMs % QUARTER_HOUR_MS !== 0) {
    throw new EdaInputError(`${what} of ${gridConnectionId}: start ${startMs} is not a UTC quarter hour`);
  }
}

function checkWh(value: number | null, field: string): void {
  if (value !== null && (!Number.isSafeInteger(value) || value < 0)) throw new EdaInputError(`${field} must be whole Wh ≥ 0 or null`, field);
}

function roleOf(figure: OperatorFigure): PointRole {
  let role: PointRole = 'unknown';
  for (const code of Object.keys(figure.raw)) {
    const known = energyCode(code);
    if (known) role = known.role;
    if (role === 'generation') break;
  }
  return role;
}

/** Compares two values in Wh or, with `scale` 1000, in mWh; returns the flagged difference or undefined. */
function compare(kind: DifferenceKind, figure: OperatorFigure, operator: number, reference: number, scale: 1 | 1000,
  threshold: Threshold, meteredQuality: Quality | null): Difference | undefined {
  const difference = operator - reference;
  const limitWh = allowed(threshold, operator / scale, reference / scale);
  if (Math.abs(difference) <= limitWh * scale) return undefined;
  const wh = (value: number) => (scale === 1 ? value : milliWhToWh(value));
  return {
    kind, gridConnectionId: figure.gridConnectionId, startMs: figure.startMs,
    operatorWh: wh(operator), referenceWh: wh(reference), differenceWh: wh(difference),
    allowedWh: limitWh, operatorQuality: figure.quality, meteredQuality,
  };
}

/** The operator's own order on the exact values: coverage ≤ consumption, coverage ≤ share, surplus ≤ generation. */
function orderViolations(figure: OperatorFigure, tolerance: Required<Tolerance>): Difference[] {
  const exact = figure.rawMilliWh;
  const order: Threshold = { allowanceWh: 0, tolerance };
  const found: (Difference | undefined)[] = [];
  const coverage = exact[OWN_COVERAGE];
  if (coverage !== undefined) {
    const consumed = [exact[CONSUMPTION_TOTAL], exact[CONSUMPTION_PARTICIPATING]].filter((v): v is number => v !== undefined);
    if (consumed.length > 0 && coverage > Math.min(...consumed)) {
      found.push(compare('allocated_exceeds_consumption', figure, coverage, Math.min(...consumed), 1000, order, null));
    }
    const share = exact[COMMUNITY_SHARE];
    if (share !== undefined && coverage > share) found.push(compare('allocated_exceeds_share', figure, coverage, share, 1000, order, null));
  }
  const generation = generationAndSurplus(exact);
  if (generation && generation.surplus > generation.generated) {
    found.push(compare('surplus_exceeds_production', figure, generation.surplus, generation.generated, 1000, order, null));
  }
  return found.filter((d): d is Difference => d !== undefined);
}

function keyOf(gridConnectionId: string, startMs: number): string {
  return `${gridConnectionId}|${startMs}`;
}

function indexMetered(metered: readonly MeteredInterval[]): Map<string, MeteredInterval> {
  const byKey = new Map<string, MeteredInterval>();
  for (const interval of metered) {
    checkInterval(interval.startMs, interval.gridConnectionId, 'metered interval');
    checkWh(interval.importWh, 'importWh');
    checkWh(interval.exportWh, 'exportWh');
    const key = keyOf(interval.gridConnectionId, interval.startMs);
    if (byKey.has(key)) throw new EdaInputError(`metered interval of ${interval.gridConnectionId} at ${new Date(interval.startMs).toISOString()} given twice`);
    byKey.set(key, interval);
  }
  return byKey;
}

function missing(kind: 'missing_operator_figure' | 'missing_metered_interval', gridConnectionId: string, startMs: number,
  operatorWh: number | null, referenceWh: number | null, operatorQuality: OperatorQuality | null, meteredQuality: Quality | null): Difference {
  return { kind, gridConnectionId, startMs, operatorWh, referenceWh, differenceWh: null, allowedWh: 0, operatorQuality, meteredQuality };
}

interface PointTotals {
  role: PointRole;
  operatorIntervals: number;
  meteredIntervals: number;
  compared: number;
  operatorWh: number;
  meteredWh: number;
  communityWh: number;
  largest: number | null;
}

/**
 * Reconciles one community's operator figures with the metered quarter hours of the same
 * Zählpunkte and period. Pure; throws `EdaInputError` for inputs no caller should pass
 * (duplicates, instants off the quarter-hour grid, negative or fractional Wh, figures of
 * several communities).
 */
export function reconcile(figures: readonly OperatorFigure[], metered: readonly MeteredInterval[], tolerance: Tolerance = {}): Reconciliation {
  const checked = checkedTolerance(tolerance);
  // Messages before schema 01.40 name no community (null): they fit any one community.
  const communities = new Set(figures.map((figure) => figure.communityId).filter((id) => id !== null));
  if (communities.size > 1) throw new EdaInputError(`figures of ${communities.size} communities: reconcile one community at a time`);
  const meteredByKey = indexMetered(metered);
  const metric: Threshold = { allowanceWh: METERED_ALLOWANCE_WH, tolerance: checked };
  const differences: Difference[] = [];
  const totals = new Map<string, PointTotals>();
  const totalsOf = (id: string): PointTotals => {
    let entry = totals.get(id);
    if (!entry) {
      entry = { role: 'unknown', operatorIntervals: 0, meteredIntervals: 0, compared: 0, operatorWh: 0, meteredWh: 0, communityWh: 0, largest: null };
      totals.set(id, entry);
    }
    return entry;
  };
  const figureKeys = new Set<string>();
  const byInterval = new Map<number, OperatorFigure[]>();

  for (const figure of figures) {
    checkInterval(figure.startMs, figure.gridConnectionId, 'operator figure');
    const key = keyOf(figure.gridConnectionId, figure.startMs);
    if (figureKeys.has(key)) throw new EdaInputError(`operator figure of ${figure.gridConnectionId} at ${new Date(figure.startMs).toISOString()} given twice`);
    figureKeys.add(key);
    const sameInterval = byInterval.get(figure.startMs);
    if (sameInterval) sameInterval.push(figure);
    else byInterval.set(figure.startMs, [figure]);

    const role = roleOf(figure);
    const generation = role === 'generation';
    const sums = totalsOf(figure.gridConnectionId);
    if (role !== 'unknown') sums.role = role;
    sums.operatorIntervals += 1;
    sums.communityWh += (generation ? figure.toCommunityWh : figure.fromCommunityWh) ?? 0;
    differences.push(...orderViolations(figure, checked));

    const ours = meteredByKey.get(key);
    const operatorValue = generation ? figure.productionWh : figure.consumptionWh;
    const meteredValue = ours ? (generation ? ours.exportWh : ours.importWh) : null;
    if (operatorValue !== null && meteredValue !== null) {
      sums.compared += 1;
      sums.operatorWh += operatorValue;
      sums.meteredWh += meteredValue;
      sums.largest = Math.max(sums.largest ?? 0, Math.abs(operatorValue - meteredValue));
      const flagged = compare(generation ? 'production_mismatch' : 'consumption_mismatch', figure, operatorValue, meteredValue, 1, metric, ours!.quality);
      if (flagged) differences.push(flagged);
    } else if (operatorValue !== null) {
      differences.push(missing('missing_metered_interval', figure.gridConnectionId, figure.startMs, operatorValue, null, figure.quality, ours?.quality ?? null));
    } else if (meteredValue !== null) {
      differences.push(missing('missing_operator_figure', figure.gridConnectionId, figure.startMs, null, meteredValue, figure.quality, ours!.quality));
    }
  }

  for (const [key, interval] of meteredByKey) {
    totalsOf(interval.gridConnectionId).meteredIntervals += 1;
    const value = interval.importWh ?? interval.exportWh;
    if (figureKeys.has(key) || value === null) continue;
    differences.push(missing('missing_operator_figure', interval.gridConnectionId, interval.startMs, null, value, null, interval.quality));
  }

  const community = checkBalance(byInterval, checked, differences);
  const kindOrder = new Map(DIFFERENCE_KINDS.map((kind, index) => [kind, index]));
  differences.sort((a, b) => a.startMs - b.startMs
    || kindOrder.get(a.kind)! - kindOrder.get(b.kind)!
    || (a.gridConnectionId ?? '').localeCompare(b.gridConnectionId ?? ''));

  const flaggedOf = new Map<string, Partial<Record<DifferenceKind, number>>>();
  for (const difference of differences) {
    if (difference.gridConnectionId === null) continue;
    const counts = flaggedOf.get(difference.gridConnectionId) ?? {};
    counts[difference.kind] = (counts[difference.kind] ?? 0) + 1;
    flaggedOf.set(difference.gridConnectionId, counts);
  }
  const points = [...totals.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([gridConnectionId, sums]): PointSummary => {
      const flaggedByKind = flaggedOf.get(gridConnectionId) ?? {};
      return {
        gridConnectionId,
        role: sums.role,
        operatorIntervals: sums.operatorIntervals,
        meteredIntervals: sums.meteredIntervals,
        comparedIntervals: sums.compared,
        operatorWh: sums.operatorWh,
        meteredWh: sums.meteredWh,
        differenceWh: sums.operatorWh - sums.meteredWh,
        communityWh: sums.communityWh,
        flagged: Object.values(flaggedByKind).reduce((a, b) => a + b, 0),
        flaggedByKind,
        largestDifferenceWh: sums.largest,
      };
    });
  return { differences, points, community };
}

/** Per quarter hour: Σ own coverage of consumers against Σ given by producers, on exact values. */
function checkBalance(byInterval: ReadonlyMap<number, readonly OperatorFigure[]>, tolerance: Required<Tolerance>, differences: Difference[]): CommunitySummary {
  let balanced = 0;
  let imbalanced = 0;
  let fromTotal = 0;
  let toTotal = 0;
  for (const [startMs, list] of byInterval) {
    let covered = 0;
    let given = 0;
    let values = 0;
    let quality: OperatorQuality = 'measured';
    for (const figure of list) {
      const coverage = figure.rawMilliWh[OWN_COVERAGE];
      const gift = givenMilliWh(figure.rawMilliWh);
      if (coverage !== undefined) {
        covered += coverage;
        values += 1;
      }
      if (gift !== undefined) {
        given += gift;
        values += 2;
      }
      if (coverage !== undefined || gift !== undefined) quality = weakerQuality(quality, figure.quality);
      fromTotal += figure.fromCommunityWh ?? 0;
      toTotal += figure.toCommunityWh ?? 0;
    }
    if (values === 0) continue;
    balanced += 1;
    const threshold: Threshold = { allowanceWh: (values * BALANCE_ALLOWANCE_MILLI_WH_PER_VALUE) / 1000, tolerance };
    const limitWh = allowed(threshold, covered / 1000, given / 1000);
    const difference = covered - given;
    if (Math.abs(difference) <= limitWh * 1000) continue;
    imbalanced += 1;
    differences.push({
      kind: 'community_imbalance', gridConnectionId: null, startMs,
      operatorWh: milliWhToWh(covered), referenceWh: milliWhToWh(given), differenceWh: milliWhToWh(difference),
      allowedWh: limitWh, operatorQuality: quality, meteredQuality: null,
    });
  }
  return { balancedIntervals: balanced, imbalancedIntervals: imbalanced, fromCommunityWh: fromTotal, toCommunityWh: toTotal };
}
