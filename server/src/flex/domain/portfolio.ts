import { createLocalClock, localDateOf, localMidnight } from '../../kernel/calendar.js';
import { ispStartMs, type PeriodGrid } from './isp.js';
import { minuteOfDay, type AvailabilityWindow } from './contracts.js';
import type { LocalDate } from './uftp/values.js';
import type { AGRPortfolioQueryResponse } from './uftp/messages.js';

/**
 * The portfolio: the congestion points a DSO names and the connections (EANs) of the community
 * behind each, and the arithmetic that turns a plan's quarter hours into a congestion point's ISPs.
 */

/**
 * A connection's EntityAddress names a metering point by its grid connection id (the EAN or
 * Zählpunkt): `ean.<id>` as UFTP writes EANs, or the bare id. Case and spaces do not count.
 */
export function connectionKey(entityAddress: string): string {
  const bare = entityAddress.trim().replace(/^ean\./i, '');
  return bare.replace(/\s+/g, '').toUpperCase();
}

/** The quarter-hour steps of a horizon inside each ISP of the Period; ISPs the horizon does not wholly cover are left out. */
export function stepsOfIsps(grid: PeriodGrid, horizonStartMs: number, stepMs: number, steps: number): Map<number, number[]> {
  const ispMs = grid.ispMinutes * 60_000;
  const out = new Map<number, number[]>();
  if (ispMs % stepMs !== 0) return out;
  for (let isp = 1; isp <= grid.count; isp++) {
    const first = (ispStartMs(grid, isp) - horizonStartMs) / stepMs;
    const count = ispMs / stepMs;
    if (first < 0 || first + count > steps) continue;
    out.set(isp, Array.from({ length: count }, (_, k) => first + k));
  }
  return out;
}

/** The mean power (W, whole) over an ISP's steps. */
export function meanOver(powerW: readonly number[], steps: readonly number[]): number {
  return Math.round(steps.reduce((sum, s) => sum + powerW[s]!, 0) / steps.length);
}

/** Whether an ISP lies wholly inside the contract's availability windows (weekdays and local times in its zone). */
export function withinWindows(windows: readonly AvailabilityWindow[], timeZone: string, grid: PeriodGrid, isp: number): boolean {
  const clock = createLocalClock(timeZone);
  const start = clock.local(ispStartMs(grid, isp));
  const weekday = start.weekday === 0 ? 7 : start.weekday;
  const from = start.minute;
  const to = from + grid.ispMinutes;
  return windows.some((w) => w.weekdays.includes(weekday) && minuteOfDay(w.from)! <= from && to <= minuteOfDay(w.to)!);
}

/** Tomorrow's Period in the zone and the instant of today's gate (HH:MM local) by which its D-Prognosis is due. */
export function nextPeriodGate(nowMs: number, timeZone: string, gate: string): { period: LocalDate; gateMs: number } {
  const clock = createLocalClock(timeZone);
  const today = localMidnight(clock, nowMs, 'day');
  const period = localDateOf(localMidnight(clock, nowMs, 'day', 1), clock);
  const gateMs = clock.toUtc(today + clock.offsetMs(today) + minuteOfDay(gate)! * 60_000);
  return { period, gateMs };
}

/** A congestion point as a CRO reports it for one DSO of the address book (AGRPortfolioQueryResponse). */
export interface ReportedCongestionPoint {
  readonly entityAddress: string;
  readonly mutexOffersSupported: boolean;
  readonly connections: readonly string[];
}

/**
 * A CRO's answer to the AGRPortfolioQuery, per DSO domain: the congestion points and their
 * connections (each once). DSOs the answer does not name are not in the map — the CRO said
 * nothing about them. Connections no DSO placed at a congestion point are left out.
 */
export function reportedPortfolios(response: AGRPortfolioQueryResponse): Map<string, ReportedCongestionPoint[]> {
  const byDso = new Map<string, Map<string, { mutexOffersSupported: boolean; connections: Set<string> }>>();
  for (const view of response.dsoViews) {
    for (const portfolio of view.dsoPortfolios) {
      const points = byDso.get(portfolio.dsoDomain.toLowerCase()) ?? new Map<string, { mutexOffersSupported: boolean; connections: Set<string> }>();
      byDso.set(portfolio.dsoDomain.toLowerCase(), points);
      for (const cp of portfolio.congestionPoints) {
        const point = points.get(cp.entityAddress) ?? { mutexOffersSupported: cp.mutexOffersSupported, connections: new Set<string>() };
        for (const c of cp.connections) point.connections.add(c.entityAddress);
        points.set(cp.entityAddress, point);
      }
    }
  }
  return new Map([...byDso].map(([domain, points]) => [domain, [...points].map(([entityAddress, p]) => ({
    entityAddress, mutexOffersSupported: p.mutexOffersSupported, connections: [...p.connections].sort(),
  }))]));
}
