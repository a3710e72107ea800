import type { Queryable } from '../platform/store/db.js';
import { HOUR_MS, QUARTER_HOUR_MS } from '../kernel/time.js';
import { combineForecasts } from './domain/stored.js';
import { HORIZONS } from './domain/tasks.js';
import { forecastsCovering } from './store.js';

/**
 * What a metering point is expected to give (+) or need (−) per quarter hour of [fromMs, toMs),
 * in whole Wh: P50 production − P50 consumption of the newest forecasts issued by `issuedByMs`
 * (a point without a production forecast produces nothing). Quarter hours without a consumption
 * forecast are left out. For the market's agents, which trade a member's expected surplus or need.
 */
export async function expectedNetWh(
  db: Queryable, pointIds: readonly string[], fromMs: number, toMs: number, issuedByMs: number,
): Promise<Map<string, Map<number, number>>> {
  const out = new Map<string, Map<number, number>>();
  for (const pointId of pointIds) {
    const stored = await forecastsCovering(db, pointId, ['consumption', 'production'], HORIZONS, fromMs, toMs, issuedByMs);
    if (stored.length === 0) continue;
    const consumption = combineForecasts(stored.filter((f) => f.kind === 'consumption'), fromMs, toMs);
    const production = combineForecasts(stored.filter((f) => f.kind === 'production'), fromMs, toMs);
    const net = new Map<number, number>();
    consumption.forEach((step, k) => {
      if (step.p50 === null) return;
      const producedW = production[k]?.p50 ?? 0;
      net.set(step.startMs, Math.round(((producedW - step.p50) * QUARTER_HOUR_MS) / HOUR_MS));
    });
    if (net.size > 0) out.set(pointId, net);
  }
  return out;
}
