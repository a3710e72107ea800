import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { createOpenMeteoClient, WeatherSourceError } from '../../src/forecast/weather-client.js';

/** A local HTTP server answering like Open-Meteo with a recorded response (or as told to fail). */
const recorded = readFileSync(new URL('./fixtures/open-meteo-forecast.json', import.meta.url));
let server: Server;
let baseUrl: string;
let mode: 'ok' | 'error' | 'garbage' | 'huge' | 'slow' = 'ok';
const requests: URL[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    requests.push(url);
    if (url.pathname !== '/v1/forecast') return void res.writeHead(404).end();
    if (mode === 'error') return void res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":true,"reason":"busy"}');
    if (mode === 'garbage') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"hourly": nope');
    if (mode === 'huge') return void res.writeHead(200, { 'content-type': 'application/json' }).end(Buffer.alloc(300_000, 32));
    if (mode === 'slow') return void setTimeout(() => res.writeHead(200).end(recorded), 500);
    res.writeHead(200, { 'content-type': 'application/json' }).end(recorded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe('Open-Meteo client against a local server with a recorded response', () => {
  const location = { latitude: 48.58, longitude: 7.75 };

  it('asks for the hourly variables in GMT, parses, and caches until the TTL passes', async () => {
    let now = 1_000_000;
    mode = 'ok';
    requests.length = 0;
    const client = createOpenMeteoClient({ baseUrl, ttlMs: 60_000, now: () => now });
    const [a, b] = await Promise.all([client.hourly({ location }), client.hourly({ location })]);
    expect(requests).toHaveLength(1); // concurrent asks share one request
    const asked = requests[0]!.searchParams;
    expect(asked.get('hourly')).toBe('temperature_2m,shortwave_radiation,cloud_cover');
    expect(asked.get('timezone')).toBe('GMT');
    expect(asked.get('latitude')).toBe('48.5800');
    expect(a.weather.startMs).toBe(Date.UTC(2025, 5, 1));
    expect(a.stale).toBe(false);
    expect(b.weather).toBe(a.weather);
    now += 30_000;
    await client.hourly({ location });
    expect(requests).toHaveLength(1);
    now += 31_000;
    await client.hourly({ location });
    expect(requests).toHaveLength(2);
  });

  it('serves the last good answer, marked stale, when the source fails; fails clearly with none', async () => {
    let now = 0;
    const client = createOpenMeteoClient({ baseUrl, ttlMs: 1000, now: () => now });
    mode = 'ok';
    const good = await client.hourly({ location });
    now += 5000;
    mode = 'error';
    const stale = await client.hourly({ location });
    expect(stale.stale).toBe(true);
    expect(stale.weather).toBe(good.weather);
    const fresh = createOpenMeteoClient({ baseUrl });
    await expect(fresh.hourly({ location })).rejects.toThrow(/HTTP 503/);
    mode = 'garbage';
    await expect(fresh.hourly({ location })).rejects.toThrow(/not JSON/);
    mode = 'huge';
    await expect(createOpenMeteoClient({ baseUrl, maxBytes: 100_000 }).hourly({ location })).rejects.toBeInstanceOf(WeatherSourceError);
    mode = 'slow';
    await expect(createOpenMeteoClient({ baseUrl, timeoutMs: 100 }).hourly({ location })).rejects.toThrow(/unreachable/);
    await expect(createOpenMeteoClient({ baseUrl: 'http://127.0.0.1:1' }).hourly({ location })).rejects.toThrow(/unreachable/);
    expect(() => createOpenMeteoClient({ baseUrl }).hourly({ location: { latitude: 91, longitude: 0 } })).toThrow(/out of range/);
    mode = 'ok';
  });
});
