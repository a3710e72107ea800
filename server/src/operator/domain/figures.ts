import { CONSUMPTION_TOTAL, GENERATION_PARTICIPATING, GENERATION_TOTAL, OWN_COVERAGE, SURPLUS, SURPLUS_PARTICIPATING } from './codes.js';
import type { ConsumptionRecord, OperatorQuality } from './consumption-record.js';
import { EdaInputError } from './errors.js';
import { milliWhToWh } from './quantity.js';

/**
 * The operator's allocation per Zählpunkt and quarter hour, in the shape the sharing service
 * stores (`storeOperatorAllocations`; the service maps gridConnectionId to its metering point).
 *
 *   consumptionWh    ← 1-1:1.9.0 G.01   total consumption as measured (consumption Zählpunkt)
 *   fromCommunityWh  ← 1-1:2.9.0 G.03   own coverage: community energy actually used
 *   productionWh     ← 1-1:2.9.0 G.01   total generation fed in as measured (generation Zählpunkt)
 *   toCommunityWh    ← G.01T − P.01T    generation given to the community (participating
 *                      generation less the remaining surplus); G.01 − P.01 where the T codes are
 *                      absent (data before 8 April 2024); computed from the exact values and
 *                      rounded once
 *
 * The community share (1-1:2.9.0 G.02) is what the allocation key assigned to the consumer,
 * before the cap at its consumption; own coverage (G.03) is the part of it actually consumed,
 * so G.03 ≤ G.02 and G.03 ≤ G.01. The consumer pays the community for G.03, not G.02.
 * A value is null when its code is absent: a missing code is never a silent zero.
 */
export interface OperatorFigure {
  /** The Zählpunkt. */
  readonly gridConnectionId: string;
  /** The community (ECID) the figures belong to, when the message names it. */
  readonly communityId: string | null;
  /** UTC start of the quarter hour. */
  readonly startMs: number;
  readonly consumptionWh: number | null;
  readonly fromCommunityWh: number | null;
  readonly productionWh: number | null;
  readonly toCommunityWh: number | null;
  /** Every code sent for this quarter hour, in whole Wh (unknown codes included). */
  readonly raw: Readonly<Record<string, number>>;
  /** The same, exactly as sent, in mWh. */
  readonly rawMilliWh: Readonly<Record<string, number>>;
  /** The weakest quality among the codes (measured < substitute < unspecified < provisional). */
  readonly quality: OperatorQuality;
}

const QUALITY_RANK: Record<OperatorQuality, number> = { measured: 0, substitute: 1, unspecified: 2, provisional: 3 };

export function weakerQuality(a: OperatorQuality, b: OperatorQuality): OperatorQuality {
  return QUALITY_RANK[b] > QUALITY_RANK[a] ? b : a;
}

interface Slot {
  readonly startMs: number;
  /** Per meter code, the exact value and its quality; a later message's value replaces an earlier one. */
  readonly values: Map<string, { readonly milliWh: number; readonly quality: OperatorQuality }>;
}

/** The quarter hours of one Zählpunkt in one community. */
interface Series {
  readonly gridConnectionId: string;
  readonly communityId: string | null;
  readonly slots: Map<number, Slot>;
}

/**
 * A generation Zählpunkt's generation and remaining surplus, exactly, in mWh: the participating
 * pair (G.01T, P.01T), or (G.01, P.01) where the T codes are absent; undefined when neither pair
 * was sent.
 */
export function generationAndSurplus(rawMilliWh: Readonly<Record<string, number>>): { generated: number; surplus: number } | undefined {
  for (const [total, left] of [[GENERATION_PARTICIPATING, SURPLUS_PARTICIPATING], [GENERATION_TOTAL, SURPLUS]] as const) {
    const generated = rawMilliWh[total];
    const surplus = rawMilliWh[left];
    if (generated !== undefined && surplus !== undefined) return { generated, surplus };
  }
  return undefined;
}

/**
 * What a generation Zählpunkt gave to the community, exactly, in mWh: generation less remaining
 * surplus. Negative when the operator's surplus exceeds the generation (inconsistent data,
 * flagged by the reconciliation).
 */
export function givenMilliWh(rawMilliWh: Readonly<Record<string, number>>): number | undefined {
  const pair = generationAndSurplus(rawMilliWh);
  return pair && pair.generated - pair.surplus;
}

function figureOf(series: Series, slot: Slot): OperatorFigure {
  return figureFromCodes(series.gridConnectionId, series.communityId, slot.startMs, slot.values);
}

/**
 * One quarter hour's figure from its codes' exact values and qualities: what `operatorFigures`
 * builds from messages, and what the import service rebuilds from the codes it stored.
 */
export function figureFromCodes(
  gridConnectionId: string,
  communityId: string | null,
  startMs: number,
  values: ReadonlyMap<string, { readonly milliWh: number; readonly quality: OperatorQuality }>,
): OperatorFigure {
  const raw: Record<string, number> = {};
  const rawMilliWh: Record<string, number> = {};
  let quality: OperatorQuality = 'measured';
  for (const code of [...values.keys()].sort()) {
    const value = values.get(code)!;
    raw[code] = milliWhToWh(value.milliWh);
    rawMilliWh[code] = value.milliWh;
    quality = weakerQuality(quality, value.quality);
  }
  const wh = (code: string) => raw[code] ?? null;
  const given = givenMilliWh(rawMilliWh);
  return {
    gridConnectionId,
    communityId,
    startMs,
    consumptionWh: wh(CONSUMPTION_TOTAL),
    fromCommunityWh: wh(OWN_COVERAGE),
    productionWh: wh(GENERATION_TOTAL),
    // A surplus above the generation cannot be split: null, and the reconciliation flags it.
    toCommunityWh: given === undefined || given < 0 ? null : milliWhToWh(given),
    raw,
    rawMilliWh,
    quality,
  };
}

/**
 * Per Zählpunkt (and community) and quarter hour, the operator's figures from one or more
 * parsed messages, sorted by Zählpunkt and time. Messages are applied in the order given, code
 * by code: a later message's value for the same Zählpunkt, community, code and quarter hour
 * replaces an earlier one (the operator re-sends corrected data, e.g. L1 values after
 * provisional L3 ones), and codes a later message does not carry are kept from earlier ones.
 */
export function operatorFigures(records: readonly ConsumptionRecord[]): OperatorFigure[] {
  const seriesByKey = new Map<string, Series>();
  for (const record of records) {
    const key = `${record.meteringPoint}|${record.communityId ?? ''}`;
    let series = seriesByKey.get(key);
    if (!series) {
      series = { gridConnectionId: record.meteringPoint, communityId: record.communityId, slots: new Map() };
      seriesByKey.set(key, series);
    }
    for (const block of record.energy) {
      for (const data of block.series) {
        for (const position of data.positions) {
          let slot = series.slots.get(position.startMs);
          if (!slot) {
            slot = { startMs: position.startMs, values: new Map() };
            series.slots.set(position.startMs, slot);
          }
          slot.values.set(data.meterCode, { milliWh: position.milliWh, quality: position.quality });
        }
      }
    }
  }
  const figures: OperatorFigure[] = [];
  for (const key of [...seriesByKey.keys()].sort()) {
    const series = seriesByKey.get(key)!;
    for (const slot of [...series.slots.values()].sort((a, b) => a.startMs - b.startMs)) figures.push(figureOf(series, slot));
  }
  return figures;
}

const ALLOCATION_FIELDS = ['consumptionWh', 'fromCommunityWh', 'productionWh', 'toCommunityWh'] as const;
type AllocationField = (typeof ALLOCATION_FIELDS)[number];

/** One row of the sharing service's `storeOperatorAllocations`. */
export interface OperatorAllocationRow {
  readonly meteringPointId: string;
  readonly startMs: number;
  readonly consumptionWh: number | null;
  readonly fromCommunityWh: number | null;
  readonly productionWh: number | null;
  readonly toCommunityWh: number | null;
  readonly source: string;
}

interface RowInProgress {
  readonly meteringPointId: string;
  readonly startMs: number;
  readonly values: Record<AllocationField, number | null>;
  /** Which Zählpunkt gave each field, to name both when two do. */
  readonly givenBy: Partial<Record<AllocationField, string>>;
}

/**
 * Rows for `storeOperatorAllocations`: each figure's Zählpunkt mapped to the community's
 * metering point by `meteringPointOf`. A prosumer's consumption and generation Zählpunkte may
 * map to one metering point: their figures are merged into one row per quarter hour (the one
 * gives consumption and coverage, the other production and what it gave). Two Zählpunkte (or
 * two communities) giving the same field for the same metering point and quarter hour are
 * refused rather than one silently winning. Zählpunkte without a metering point are returned
 * in `unmatched` (sorted) and produce no rows, so nothing is stored under a wrong member.
 */
export function operatorAllocationRows(
  figures: readonly OperatorFigure[],
  meteringPointOf: (gridConnectionId: string) => string | undefined,
  source: string,
): { rows: OperatorAllocationRow[]; unmatched: string[] } {
  const rows = new Map<string, RowInProgress>();
  const unmatched = new Set<string>();
  for (const figure of figures) {
    const meteringPointId = meteringPointOf(figure.gridConnectionId);
    if (meteringPointId === undefined) {
      unmatched.add(figure.gridConnectionId);
      continue;
    }
    const key = `${meteringPointId}|${figure.startMs}`;
    let row = rows.get(key);
    if (!row) {
      row = { meteringPointId, startMs: figure.startMs, values: { consumptionWh: null, fromCommunityWh: null, productionWh: null, toCommunityWh: null }, givenBy: {} };
      rows.set(key, row);
    }
    for (const field of ALLOCATION_FIELDS) {
      const value = figure[field];
      if (value === null) continue;
      const earlier = row.givenBy[field];
      if (earlier !== undefined) {
        throw new EdaInputError(`${field} of metering point ${meteringPointId} at ${new Date(figure.startMs).toISOString()} comes from ${earlier} and from ${figure.gridConnectionId}${figure.communityId ? ` (community ${figure.communityId})` : ''}: import one community at a time`);
      }
      row.givenBy[field] = figure.gridConnectionId;
      row.values[field] = value;
    }
  }
  const ordered = [...rows.values()]
    .sort((a, b) => (a.meteringPointId < b.meteringPointId ? -1 : a.meteringPointId > b.meteringPointId ? 1 : a.startMs - b.startMs))
    .map((row): OperatorAllocationRow => ({ meteringPointId: row.meteringPointId, startMs: row.startMs, ...row.values, source }));
  return { rows: ordered, unmatched: [...unmatched].sort() };
}
