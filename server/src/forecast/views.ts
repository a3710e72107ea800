import type { Db, Queryable } from '../platform/store/db.js';
import type { EventPublisher } from '../platform/events/index.js';
import { recordChange } from '../audit/index.js';
import type { Principal } from '../kernel/principal.js';
import { isMemberOf, requireUser } from '../accounts/index.js';
import { getMember, getMeteringPoint, loadCommunity, loadTariffs, meteringPointsOfCommunity, requireCommunityManager, type Community } from '../registry/index.js';
import { BadRequestError, NotFoundError } from '../kernel/errors.js';
import { localDateOf } from '../kernel/calendar.js';
import { DAY_MS, QUARTER_HOUR_MS, ceilToQuarterHour, floorToQuarterHour } from '../kernel/time.js';
import { bestHours } from './domain/best-hours.js';
import { createForecastCalendar } from './domain/calendar.js';
import { accuracyFromSums } from './domain/metrics.js';
import { combineForecasts, toHourly, type CombinedStep } from './domain/stored.js';
import { HORIZONS, type HorizonName } from './domain/tasks.js';
import { ACCURACY_DAYS, rollingAccuracy } from './service.js';
import { cachedWeather, forecastsCovering, setWeatherSource, weatherSourceOf, type ForecastKind } from './store.js';

/** What the forecast routes answer, with the callers' rights checked (as for energy: members their own points, managers their community). */

/** Longest range one request may ask for. */
export const MAX_FORECAST_RANGE_MS = 8 * DAY_MS;

type Quantile = 'p10' | 'p50' | 'p90';

export interface ForecastQuery {
  from: string;
  to: string;
  resolution?: 15 | 60 | undefined;
  quantiles?: string | undefined;
  horizon?: HorizonName | undefined;
}

function range(query: ForecastQuery): { fromMs: number; toMs: number } {
  const fromMs = floorToQuarterHour(Date.parse(query.from));
  const toMs = ceilToQuarterHour(Date.parse(query.to));
  if (!(toMs > fromMs)) throw new BadRequestError('querystring/to: must be after from', 'querystring/to');
  if (toMs - fromMs > MAX_FORECAST_RANGE_MS) throw new BadRequestError('querystring/to: at most 8 days per request', 'querystring/to');
  return { fromMs, toMs };
}

async function forecastOf(db: Queryable, nowMs: number, id: string, timeZone: string, kinds: readonly ForecastKind[], query: ForecastQuery) {
  const { fromMs, toMs } = range(query);
  const wanted = new Set<Quantile>((query.quantiles ?? 'p10,p50,p90').split(',') as Quantile[]);
  const resolution = query.resolution ?? 15;
  const stored = await forecastsCovering(db, id, kinds, query.horizon ? [query.horizon] : HORIZONS, fromMs, toMs, nowMs);
  const series = kinds.flatMap((kind) => {
    const own = stored.filter((f) => f.kind === kind);
    if (own.length === 0) return [];
    const quarters = combineForecasts(own, fromMs, toMs);
    const steps: CombinedStep[] = resolution === 60 ? toHourly(quarters) : quarters;
    const issued = steps.reduce((latest, s) => Math.max(latest, s.issuedAtMs ?? 0), 0);
    return [{
      kind,
      models: [...new Set(steps.flatMap((s) => (s.model ? [s.model] : [])))],
      issuedAt: issued > 0 ? new Date(issued).toISOString() : null,
      values: steps.map((s) => ({
        start: new Date(s.startMs).toISOString(),
        ...(wanted.has('p10') ? { p10W: s.p10 } : {}),
        ...(wanted.has('p50') ? { p50W: s.p50 } : {}),
        ...(wanted.has('p90') ? { p90W: s.p90 } : {}),
      })),
    }];
  });
  return { id, timeZone, from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), resolution, series };
}

/** Members of the community and admins; anyone else learns nothing (404). */
async function communityOfMember(db: Queryable, principal: Principal, communityId: string): Promise<Community> {
  requireUser(principal);
  const community = await loadCommunity(db, communityId);
  if (!community || !isMemberOf(principal, communityId)) throw new NotFoundError('community');
  return community;
}

export async function meteringPointForecast(db: Queryable, nowMs: number, principal: Principal, pointId: string, query: ForecastQuery) {
  const point = await getMeteringPoint(db, principal, pointId);
  const community = (await loadCommunity(db, point.communityId))!;
  return forecastOf(db, nowMs, point.id, community.timeZone, ['consumption', 'production', 'heat'], query);
}

export async function communityForecast(db: Queryable, nowMs: number, principal: Principal, communityId: string, query: ForecastQuery) {
  const community = await communityOfMember(db, principal, communityId);
  return forecastOf(db, nowMs, community.id, community.timeZone, ['consumption', 'production', 'surplus'], query);
}

async function accuracyRows(db: Queryable, nowMs: number, community: Community, seriesId?: string) {
  const names = new Map((await meteringPointsOfCommunity(db, community.id)).map((p) => [p.id, p.name]));
  names.set(community.id, community.name);
  const rows = await rollingAccuracy(db, nowMs, community.id, seriesId);
  return {
    days: ACCURACY_DAYS,
    rows: rows.map((r) => {
      const a = accuracyFromSums(r);
      return {
        seriesId: r.seriesId, scope: r.scope, name: names.get(r.seriesId) ?? '', kind: r.kind, model: r.model, horizon: r.horizon,
        count: a.count, maeW: a.maeW, rmseW: a.rmseW, nrmse: a.nrmse, skill: a.skill, coverage: a.coverage,
      };
    }),
  };
}

export async function communityAccuracy(db: Queryable, nowMs: number, principal: Principal, communityId: string) {
  await requireCommunityManager(db, principal, communityId);
  return accuracyRows(db, nowMs, (await loadCommunity(db, communityId))!);
}

export async function meteringPointAccuracy(db: Queryable, nowMs: number, principal: Principal, pointId: string) {
  const point = await getMeteringPoint(db, principal, pointId);
  return accuracyRows(db, nowMs, (await loadCommunity(db, point.communityId))!, point.id);
}

/** The grid price of every quarter hour from the tariff in force that day (null: no tariff at all). */
async function gridPrices(db: Queryable, community: Community, fromMs: number, steps: number): Promise<string[] | undefined> {
  const tariffs = (await loadTariffs(db, community.id)).sort((a, b) => a.validFrom.localeCompare(b.validFrom));
  if (tariffs.length === 0) return undefined;
  const clock = createForecastCalendar(community.timeZone, null).clock;
  return Array.from({ length: steps }, (_, k) => {
    const t = fromMs + k * QUARTER_HOUR_MS;
    const date = localDateOf(t, clock);
    // Before the first tariff's start its prices are the best guess there is.
    const tariff = tariffs.filter((x) => x.validFrom <= date).pop() ?? tariffs[0]!;
    const local = clock.local(t);
    const isoDay = local.weekday === 0 ? 7 : local.weekday;
    const minute = Math.floor(local.minute);
    const hhmm = `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
    const window = tariff.timeOfUse?.find((w) => w.days.includes(isoDay) && w.from <= hhmm && (w.to === '00:00' || hhmm < w.to));
    return window?.gridPrice ?? tariff.gridPrice;
  });
}

export async function memberBestHours(db: Queryable, nowMs: number, principal: Principal, memberId: string) {
  const member = await getMember(db, principal, memberId);
  const community = (await loadCommunity(db, member.communityId))!;
  const calendar = createForecastCalendar(community.timeZone, null);
  const fromMs = ceilToQuarterHour(nowMs);
  const toMs = calendar.midnight(calendar.localDay(nowMs) + 2);
  const stored = await forecastsCovering(db, community.id, ['surplus', 'production', 'consumption'], HORIZONS, fromMs, toMs, nowMs);
  const p50s = (kind: ForecastKind) => combineForecasts(stored.filter((f) => f.kind === kind), fromMs, toMs).map((s) => s.p50);
  const surplusW = p50s('surplus');
  const prices = await gridPrices(db, community, fromMs, surplusW.length);
  const best = bestHours(fromMs, { surplusW, productionW: p50s('production'), consumptionW: p50s('consumption') }, prices);
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    memberId: member.id, communityId: community.id, timeZone: community.timeZone, from: iso(fromMs), to: iso(toMs),
    surplus: best.surplus.map((w) => ({ start: iso(w.startMs), end: iso(w.endMs), surplusWh: w.surplusWh, peakW: w.peakW })),
    cheapest: best.cheapest.map((w) => ({ start: iso(w.startMs), end: iso(w.endMs), gridPrice: w.gridPrice })),
    recommendation: best.recommendation && { start: iso(best.recommendation.startMs), end: iso(best.recommendation.endMs), reason: best.recommendation.reason },
  };
}

async function weatherState(db: Queryable, communityId: string) {
  const source = await weatherSourceOf(db, communityId);
  const cached = source ? await cachedWeather(db, communityId) : undefined;
  return { url: source?.url ?? null, lastFetchedAt: cached && cached.url === source?.url ? new Date(cached.fetchedAtMs).toISOString() : null };
}

export async function getWeatherSource(db: Queryable, principal: Principal, communityId: string) {
  await requireCommunityManager(db, principal, communityId);
  return weatherState(db, communityId);
}

export async function putWeatherSource(db: Db, events: EventPublisher, principal: Principal, communityId: string, url: string | null) {
  await requireCommunityManager(db, principal, communityId);
  if (url !== null) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new BadRequestError('body/url: not a URL', 'body/url');
    }
    if (parsed.username || parsed.password) throw new BadRequestError('body/url: no credentials in the URL', 'body/url');
  }
  await events.transaction(db, async (tx, publish) => {
    const before = await weatherSourceOf(tx, communityId);
    await setWeatherSource(tx, communityId, url);
    // A query string may carry a provider's API key: the trail names the source without it.
    const source = (value: string | null | undefined) => {
      if (!value) return null;
      const { origin, pathname } = new URL(value);
      return `${origin}${pathname}`;
    };
    await recordChange(publish, { kind: 'weather-source', communityId, resourceId: communityId, action: 'set', before: { source: source(before?.url) }, after: { source: source(url) } });
  });
  return weatherState(db, communityId);
}
