import { QUARTER_HOUR_MS } from '../../kernel/time.js';

/**
 * "Best hours" for a member: the windows in which the community expects a surplus (its P50
 * surplus forecast at least MIN_SURPLUS_W and at least a quarter of the peak in the range, for at
 * least MIN_WINDOW_MS), and, where the tariff has time-of-use grid prices that differ, the windows
 * of the cheapest grid price. The recommendation is the surplus window with the most expected
 * surplus energy; without surplus, the earliest cheapest-tariff window; without either (a winter
 * day: the community's PV covers only part of its use), the OWN_PRODUCTION_WINDOW_MS in which its
 * expected production covers the largest share of its expected consumption, if it produces at
 * least MIN_SURPLUS_W there; else none.
 */
export const MIN_SURPLUS_W = 1_000;
export const PEAK_SHARE = 0.25;
export const MIN_WINDOW_MS = 2 * QUARTER_HOUR_MS;
export const OWN_PRODUCTION_WINDOW_MS = 2 * 4 * QUARTER_HOUR_MS;

export interface Window {
  readonly startMs: number;
  readonly endMs: number;
}

export interface SurplusWindow extends Window {
  /** Expected community surplus in the window (Σ P50 × 15 min), whole Wh. */
  readonly surplusWh: number;
  readonly peakW: number;
}

export interface PricedWindow extends Window {
  readonly gridPrice: string;
}

export interface BestHours {
  readonly surplus: readonly SurplusWindow[];
  readonly cheapest: readonly PricedWindow[];
  readonly recommendation: (Window & { readonly reason: 'surplus' | 'tariff' | 'own-production' }) | null;
}

/** Expected community P50s per quarter hour from the start (null: no forecast). */
export interface CommunityOutlook {
  readonly surplusW: readonly (number | null)[];
  readonly productionW: readonly (number | null)[];
  readonly consumptionW: readonly (number | null)[];
}

/** `surplusP50W[k]` is the expected surplus of the quarter hour starting at startMs + k·15 min (null: no forecast). */
export function surplusWindows(startMs: number, surplusP50W: readonly (number | null)[]): SurplusWindow[] {
  const peak = Math.max(0, ...surplusP50W.map((v) => v ?? 0));
  const threshold = Math.max(MIN_SURPLUS_W, PEAK_SHARE * peak);
  const windows: SurplusWindow[] = [];
  let open: { start: number; wh: number; peak: number } | undefined;
  const close = (endIndex: number) => {
    if (!open) return;
    const endMs = startMs + endIndex * QUARTER_HOUR_MS;
    if (endMs - open.start >= MIN_WINDOW_MS) windows.push({ startMs: open.start, endMs, surplusWh: Math.round(open.wh), peakW: Math.round(open.peak) });
    open = undefined;
  };
  surplusP50W.forEach((v, k) => {
    if (v !== null && v >= threshold) {
      open ??= { start: startMs + k * QUARTER_HOUR_MS, wh: 0, peak: 0 };
      open.wh += v / 4;
      open.peak = Math.max(open.peak, v);
    } else {
      close(k);
    }
  });
  close(surplusP50W.length);
  return windows;
}

/** Merges consecutive quarter hours at the lowest price (prices as exact decimal strings, compared as numbers). */
export function cheapestWindows(startMs: number, gridPrices: readonly string[]): PricedWindow[] {
  const values = gridPrices.map(Number);
  if (values.length === 0) return [];
  const min = Math.min(...values);
  if (min === Math.max(...values)) return [];
  const windows: PricedWindow[] = [];
  let open: number | undefined;
  values.forEach((v, k) => {
    if (v === min) open ??= k;
    else if (open !== undefined) {
      windows.push({ startMs: startMs + open * QUARTER_HOUR_MS, endMs: startMs + k * QUARTER_HOUR_MS, gridPrice: gridPrices[open]! });
      open = undefined;
    }
  });
  if (open !== undefined) windows.push({ startMs: startMs + open * QUARTER_HOUR_MS, endMs: startMs + values.length * QUARTER_HOUR_MS, gridPrice: gridPrices[open]! });
  return windows;
}

/** The window of OWN_PRODUCTION_WINDOW_MS whose production covers the largest share of consumption (Σ min(production, consumption) ÷ Σ consumption). */
export function ownProductionWindow(startMs: number, outlook: CommunityOutlook): Window | undefined {
  const width = OWN_PRODUCTION_WINDOW_MS / QUARTER_HOUR_MS;
  let best: { k: number; share: number } | undefined;
  for (let k = 0; k + width <= outlook.productionW.length; k++) {
    let covered = 0;
    let used = 0;
    let produced = 0;
    for (let j = k; j < k + width; j++) {
      const p = outlook.productionW[j];
      const c = outlook.consumptionW[j];
      if (p === null || p === undefined || c === null || c === undefined) {
        used = 0;
        break;
      }
      covered += Math.min(p, c);
      used += c;
      produced += p;
    }
    if (used <= 0 || produced / width < MIN_SURPLUS_W) continue;
    const share = covered / used;
    if (!best || share > best.share) best = { k, share };
  }
  return best && { startMs: startMs + best.k * QUARTER_HOUR_MS, endMs: startMs + (best.k + width) * QUARTER_HOUR_MS };
}

export function bestHours(startMs: number, outlook: CommunityOutlook, gridPrices: readonly string[] | undefined): BestHours {
  const surplus = surplusWindows(startMs, outlook.surplusW);
  const cheapest = gridPrices ? cheapestWindows(startMs, gridPrices) : [];
  const top = [...surplus].sort((a, b) => b.surplusWh - a.surplusWh || a.startMs - b.startMs)[0];
  const own = top || cheapest[0] ? undefined : ownProductionWindow(startMs, outlook);
  const recommendation = top
    ? { startMs: top.startMs, endMs: top.endMs, reason: 'surplus' as const }
    : cheapest[0] ? { startMs: cheapest[0].startMs, endMs: cheapest[0].endMs, reason: 'tariff' as const }
      : own ? { ...own, reason: 'own-production' as const } : null;
  return { surplus, cheapest, recommendation };
}
