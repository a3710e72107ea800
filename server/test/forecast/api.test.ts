import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';
import { DAY, HOUR, QUARTER, issueTime, nextLocalMidnight, siteHistory } from './support/history.js';

/**
 * Readings in over HTTP, forecasts out over the API, with the forecast job's clock moved by the
 * test: history before `base`, a forecast issued at `base`, then the outcomes of its targets, then
 * its accuracy; retention after 36 days; the weather source against a local Open-Meteo stand-in.
 */
describe.each(platformStoreKinds)('forecasts through the API on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  let nowMs = 0;
  let weather: Server;
  let weatherUrl: string;
  const weatherRequests: URL[] = [];
  const base = issueTime();
  let sendBetween: (fromMs: number, toMs: number) => Promise<void>;

  const get = (url: string, token: string) => tp.call('GET', url, { token });
  const iso = (ms: number) => new Date(ms).toISOString();
  const ordered = (values: { p10W?: number | null; p50W?: number | null; p90W?: number | null }[]) =>
    values.every((v) => v.p10W !== null && v.p50W !== null && v.p90W !== null && v.p10W! <= v.p50W! && v.p50W! <= v.p90W!);

  beforeAll(async () => {
    weather = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      weatherRequests.push(url);
      if (url.pathname !== '/v1/forecast') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(readFileSync(new URL('./fixtures/open-meteo-forecast.json', import.meta.url)));
    });
    await new Promise<void>((resolve) => weather.listen(0, '127.0.0.1', resolve));
    weatherUrl = `http://127.0.0.1:${(weather.address() as AddressInfo).port}`;

    tp = await startTestPlatform(kind, { forecast: { now: () => nowMs, delayMs: 600_000 } });
    w = await buildWorld(tp);
    sendBetween = await siteHistory(tp, w);
    nowMs = base;
    await sendBetween(base - 3 * DAY, base);
  }, 60_000);
  afterAll(async () => {
    await tp?.close();
    await new Promise((resolve) => weather?.close(resolve));
  });

  it('keeps the weather source of a community (managers), and fetches it when forecasting', async () => {
    const put = (url: unknown, token = w.managerA.token) => tp.call('PUT', `/api/v1/communities/${w.communityA}/weather-source`, { token, body: { url } });
    expect((await put('ftp://example.org')).status).toBe(400);
    expect((await put('http://user:secret@example.org')).status).toBe(400);
    expect((await put(weatherUrl, w.memberA.token)).status).toBe(403);
    const set = await put(weatherUrl);
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body).toEqual({ url: weatherUrl, lastFetchedAt: null });

    await tp.platform.forecast.flush();
    expect(weatherRequests.length).toBeGreaterThan(0);
    expect(weatherRequests[0]!.searchParams.get('latitude')).toBe('48.2000');
    const after = await get(`/api/v1/communities/${w.communityA}/weather-source`, w.managerA.token);
    expect(after.body.url).toBe(weatherUrl);
    expect(Date.parse(after.body.lastFetchedAt)).toBeGreaterThan(0);
  });

  it('answers forecasts per metering point and per community: ordered quantiles, 96 quarter hours a day ahead, hourly means', async () => {
    const intraday = await get(`/api/v1/communities/${w.communityA}/forecast?from=${iso(base + QUARTER)}&to=${iso(base + 12 * HOUR + QUARTER)}&horizon=intraday`, w.memberA2.token);
    expect(intraday.status, JSON.stringify(intraday.body)).toBe(200);
    expect(intraday.body.series.map((s: { kind: string }) => s.kind)).toEqual(['consumption', 'production', 'surplus']);
    for (const series of intraday.body.series) {
      expect(series.values).toHaveLength(48);
      expect(ordered(series.values), series.kind).toBe(true);
      expect(series.models).toEqual(['community-sum']);
    }
    const production = intraday.body.series[1].values.map((v: { p50W: number }) => v.p50W);
    expect(Math.max(...production)).toBeGreaterThan(1_000); // the roof produces around noon…
    expect(Math.min(...production)).toBeLessThan(100); // …and nothing at night

    const tomorrow = nextLocalMidnight(base);
    const point = await get(`/api/v1/metering-points/${w.meteringPointA}/forecast?from=${iso(tomorrow)}&to=${iso(tomorrow + DAY)}`, w.memberA.token);
    expect(point.status, JSON.stringify(point.body)).toBe(200);
    expect(point.body.series.map((s: { kind: string }) => s.kind)).toEqual(['consumption', 'production']);
    for (const series of point.body.series) {
      expect(series.values).toHaveLength(96);
      expect(ordered(series.values), series.kind).toBe(true);
    }

    const hourly = await get(`/api/v1/metering-points/${w.meteringPointA}/forecast?from=${iso(tomorrow)}&to=${iso(tomorrow + DAY)}&resolution=60&quantiles=p50`, w.managerA.token);
    expect(hourly.status).toBe(200);
    const consumption = hourly.body.series[0];
    expect(consumption.values).toHaveLength(24);
    expect(Object.keys(consumption.values[0]).sort()).toEqual(['p50W', 'start']);
    const quarters = point.body.series[0].values.slice(0, 4).map((v: { p50W: number }) => v.p50W);
    expect(Math.abs(consumption.values[0].p50W - quarters.reduce((a: number, b: number) => a + b, 0) / 4)).toBeLessThanOrEqual(1);
  });

  it('refuses bad ranges (400) and hides points and communities of others (404)', async () => {
    const url = (from: string, to: string, id = w.meteringPointA) => `/api/v1/metering-points/${id}/forecast?from=${from}&to=${to}`;
    expect((await get(url(iso(base + DAY), iso(base)), w.memberA.token)).status).toBe(400);
    expect((await get(url(iso(base), iso(base + 9 * DAY)), w.memberA.token)).status).toBe(400);
    expect((await get(url('NaN', iso(base)), w.memberA.token)).status).toBe(400);
    expect((await get(`${url(iso(base), iso(base + DAY))}&resolution=30`, w.memberA.token)).status).toBe(400);
    expect((await get(url(iso(base), iso(base + DAY), '00000000-0000-4000-8000-000000000000'), w.memberA.token)).status).toBe(404);
    expect((await get(url(iso(base), iso(base + DAY)), w.memberB.token)).status).toBe(404);
    expect((await get(`/api/v1/communities/${w.communityA}/forecast?from=${iso(base)}&to=${iso(base + DAY)}`, w.memberB.token)).status).toBe(404);
  });

  it('scores the forecasts once their outcomes arrive, per series, model and horizon, and exports the accuracy to /metrics', async () => {
    const empty = await get(`/api/v1/communities/${w.communityA}/forecast-accuracy`, w.managerA.token);
    expect(empty.body.rows).toEqual([]);

    await sendBetween(base, base + 13 * HOUR);
    nowMs = base + 13 * HOUR;
    await tp.platform.forecast.flush();

    const accuracy = await get(`/api/v1/communities/${w.communityA}/forecast-accuracy`, w.managerA.token);
    expect(accuracy.status).toBe(200);
    expect(accuracy.body.days).toBe(30);
    const community = accuracy.body.rows.filter((r: { scope: string; horizon: string }) => r.scope === 'community' && r.horizon === 'intraday');
    expect(community.map((r: { kind: string }) => r.kind).sort()).toEqual(['consumption', 'production', 'surplus']);
    for (const row of community) {
      expect(row.count).toBe(48);
      expect(row.maeW).toBeGreaterThanOrEqual(0);
      expect(row.rmseW).toBeGreaterThanOrEqual(row.maeW);
    }
    const consumption = community.find((r: { kind: string }) => r.kind === 'consumption');
    expect(consumption.skill).not.toBeNull();
    expect(consumption.name).toMatch(/^Community A/);

    const own = await get(`/api/v1/metering-points/${w.meteringPointA}/forecast-accuracy`, w.memberA.token);
    expect(own.status).toBe(200);
    expect(own.body.rows.length).toBeGreaterThan(0);
    expect(own.body.rows.every((r: { seriesId: string }) => r.seriesId === w.meteringPointA)).toBe(true);
    expect((await get(`/api/v1/metering-points/${w.meteringPointA}/forecast-accuracy`, w.memberA2.token)).status).toBe(404);

    const metrics = await get('/metrics', tp.admin.token);
    expect(metrics.body).toMatch(/gridshare_forecast_mae_watts\{kind="consumption",model="community-sum",horizon="intraday"\} \d/);
    expect(metrics.body).toMatch(/gridshare_forecast_skill\{kind="production",model="[^"]+",horizon="intraday"\}/);
  });

  it('tells a member the best hours: when the community expects surplus', async () => {
    const best = await get(`/api/v1/members/${w.memberIdA2}/best-hours`, w.memberA2.token);
    expect(best.status, JSON.stringify(best.body)).toBe(200);
    expect(best.body.surplus.length).toBeGreaterThan(0);
    expect(best.body.cheapest).toEqual([]); // A's tariff has one grid price all day
    const { recommendation } = best.body;
    expect(recommendation.reason).toBe('surplus');
    expect(Date.parse(recommendation.start)).toBeGreaterThanOrEqual(nowMs);
    expect(Date.parse(recommendation.end)).toBeGreaterThan(Date.parse(recommendation.start));
    // Surplus comes from the roof: around midday UTC.
    const hour = new Date(recommendation.start).getUTCHours();
    expect(hour).toBeGreaterThanOrEqual(6);
    expect(hour).toBeLessThanOrEqual(14);
    expect((await get(`/api/v1/members/${w.memberIdA2}/best-hours`, w.memberA.token)).status).toBe(404);
  });

  it('prunes forecasts and accuracy older than the retention (35 days)', async () => {
    const range = `from=${iso(base + QUARTER)}&to=${iso(base + 12 * HOUR + QUARTER)}`;
    nowMs = base + 36 * DAY;
    await tp.platform.forecast.flush();
    const old = await get(`/api/v1/communities/${w.communityA}/forecast?${range}`, w.managerA.token);
    expect(old.status).toBe(200);
    expect(old.body.series).toEqual([]);
    expect((await get(`/api/v1/communities/${w.communityA}/forecast-accuracy`, w.managerA.token)).body.rows).toEqual([]);
    // What was issued now is there.
    const fresh = await get(`/api/v1/communities/${w.communityA}/forecast?from=${iso(nowMs)}&to=${iso(nowMs + 6 * HOUR)}`, w.managerA.token);
    expect(fresh.body.series.length).toBeGreaterThan(0);
  });
});
