/**
 * Pure transforms from API answers to what the charts and cards show. No formatting and no
 * DOM here, so every figure a page shows can be checked against the API in a unit test.
 */
import type { EnergyBucket, EnergyFigures } from '@gridshare/contract/sharing';
import type { LiveReading } from '@gridshare/contract/live';

export interface StackedSeries {
  /** Bucket starts (ISO), one per bar. */
  starts: string[];
  /** Consumption by source, Wh: stacked upwards. */
  selfConsumed: number[];
  fromCommunity: number[];
  fromGrid: number[];
  /** Production that left the site, Wh: stacked downwards (negative) by the chart. */
  toCommunity: number[];
  toGrid: number[];
  /** Past buckets whose figures are not all measured, or whose split may still change. */
  flagged: { start: string; quality: string; provisional: boolean }[];
}

/** Bars of `series`; only buckets that ended by `nowMs` are flagged (the current one is incomplete by nature). */
export function stackedBySource(series: readonly EnergyBucket[], nowMs = Number.POSITIVE_INFINITY): StackedSeries {
  return {
    starts: series.map((b) => b.start),
    selfConsumed: series.map((b) => b.selfConsumedWh),
    fromCommunity: series.map((b) => b.fromCommunityWh),
    fromGrid: series.map((b) => b.fromGridWh),
    toCommunity: series.map((b) => b.toCommunityWh),
    toGrid: series.map((b) => b.toGridWh),
    flagged: series.filter((b) => (b.quality !== 'measured' || b.provisional) && Date.parse(b.end) <= nowMs).map((b) => ({ start: b.start, quality: b.quality, provisional: b.provisional })),
  };
}

/** What the stacked chart adds up to, from its own bars: consumption by source and production that left. */
export function stackedTotals(series: StackedSeries): Omit<EnergyFigures, 'consumptionWh' | 'productionWh'> {
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  return {
    selfConsumedWh: sum(series.selfConsumed),
    fromCommunityWh: sum(series.fromCommunity),
    fromGridWh: sum(series.fromGrid),
    toCommunityWh: sum(series.toCommunity),
    toGridWh: sum(series.toGrid),
  };
}

export interface Flow {
  source: FlowNode;
  target: FlowNode;
  valueWh: number;
}

/** The flow diagram's nodes (their names on screen: chart-options flowNodeName). */
export const FLOW_NODES = {
  pv: 'pv',
  fromCommunity: 'fromCommunity',
  fromGrid: 'fromGrid',
  home: 'home',
  toCommunity: 'toCommunity',
  toGrid: 'toGrid',
} as const;
export type FlowNode = (typeof FLOW_NODES)[keyof typeof FLOW_NODES];

/**
 * The energy flow of a period: sources on the left, where the energy went on the right.
 * "From" and "to" the community and grid are separate nodes, so the diagram has no cycle and
 * never suggests exported energy came back. Zero flows are left out.
 */
export function energyFlows(totals: EnergyFigures): Flow[] {
  const flows: Flow[] = [
    { source: FLOW_NODES.pv, target: FLOW_NODES.home, valueWh: totals.selfConsumedWh },
    { source: FLOW_NODES.fromCommunity, target: FLOW_NODES.home, valueWh: totals.fromCommunityWh },
    { source: FLOW_NODES.fromGrid, target: FLOW_NODES.home, valueWh: totals.fromGridWh },
    { source: FLOW_NODES.pv, target: FLOW_NODES.toCommunity, valueWh: totals.toCommunityWh },
    { source: FLOW_NODES.pv, target: FLOW_NODES.toGrid, valueWh: totals.toGridWh },
  ];
  return flows.filter((f) => f.valueWh > 0);
}

/** Share of consumption covered by own PV and the community (null without consumption). */
export function selfSufficiency(totals: EnergyFigures): number | null {
  return totals.consumptionWh > 0 ? (totals.selfConsumedWh + totals.fromCommunityWh) / totals.consumptionWh : null;
}

/** The order the seven figures of a period are shown in. */
export const FIGURES = ['consumptionWh', 'selfConsumedWh', 'fromCommunityWh', 'fromGridWh', 'productionWh', 'toCommunityWh', 'toGridWh'] as const satisfies readonly (keyof EnergyFigures)[];

export interface FigureChange {
  field: keyof EnergyFigures;
  currentWh: number;
  previousWh: number;
  /** Exactly current − previous, in whole Wh. */
  differenceWh: number;
  /** The difference relative to the period before; null where that had none. */
  change: number | null;
}

/** A period's figures beside those of the period before, in FIGURES order. */
export function compareFigures(current: EnergyFigures, previous: EnergyFigures): FigureChange[] {
  return FIGURES.map((field) => {
    const differenceWh = current[field] - previous[field];
    return { field, currentWh: current[field], previousWh: previous[field], differenceWh, change: previous[field] === 0 ? null : differenceWh / previous[field] };
  });
}

export interface LivePower {
  importW: number;
  exportW: number;
  pvW: number;
  /** Newest reading time, ISO; null before the first reading. */
  at: string | null;
  /** Metering points that have reported. */
  points: number;
}

/** Keeps the newest reading per metering point (a late, older event never replaces a newer one). */
export function mergeLive(latest: ReadonlyMap<string, LiveReading>, event: LiveReading): Map<string, LiveReading> {
  const next = new Map(latest);
  const current = next.get(event.meteringPointId);
  if (!current || event.ts >= current.ts) {
    next.set(event.meteringPointId, current ? { ...event, values: { ...current.values, ...event.values } } : event);
  }
  return next;
}

/** The power at the meters now: grid import, export and PV, summed over the points shown. */
export function livePower(latest: ReadonlyMap<string, LiveReading>): LivePower {
  let importW = 0;
  let exportW = 0;
  let pvW = 0;
  let at: string | null = null;
  for (const reading of latest.values()) {
    importW += reading.values['power.import'] ?? 0;
    exportW += reading.values['power.export'] ?? 0;
    pvW += reading.values['pv.power'] ?? 0;
    if (at === null || reading.ts > at) at = reading.ts;
  }
  return { importW, exportW, pvW, at, points: latest.size };
}
