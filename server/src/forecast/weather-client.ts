import { BadRequestError } from '../kernel/errors.js';
import { OPEN_METEO_HOURLY, parseOpenMeteo, type WeatherSeries } from './domain/weather.js';
import type { Location } from './domain/model.js';

/**
 * The I/O shell around the Open-Meteo parser: one HTTP GET per place and window, answers kept
 * for `ttlMs` (forecasts change hourly), concurrent asks for the same place sharing one request.
 * When the source fails, the last good answer is served marked `stale` (forecasting without fresh
 * weather beats forecasting without any); with none, the error says why and the caller forecasts
 * without weather.
 */
export interface OpenMeteoClientOptions {
  /** e.g. https://api.open-meteo.com (a self-hosted Open-Meteo or a test server works the same). */
  readonly baseUrl: string;
  readonly ttlMs?: number | undefined;
  readonly timeoutMs?: number | undefined;
  readonly maxBytes?: number | undefined;
  /** Injected clock (tests). */
  readonly now?: (() => number) | undefined;
}

export interface WeatherRequest {
  readonly location: Location;
  readonly pastDays?: number | undefined;
  readonly forecastDays?: number | undefined;
}

export interface WeatherAnswer {
  readonly weather: WeatherSeries;
  readonly fetchedAtMs: number;
  /** True when this is an older answer served because the source failed just now. */
  readonly stale: boolean;
}

export class WeatherSourceError extends Error {}

export interface WeatherClient {
  hourly(request: WeatherRequest): Promise<WeatherAnswer>;
}

export function createOpenMeteoClient(options: OpenMeteoClientOptions): WeatherClient {
  const ttlMs = options.ttlMs ?? 60 * 60_000;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxBytes = options.maxBytes ?? 5 * 1024 * 1024;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { weather: WeatherSeries; fetchedAtMs: number }>();
  const inFlight = new Map<string, Promise<WeatherAnswer>>();

  const url = (request: WeatherRequest): string => {
    const { latitude, longitude } = request.location;
    if (!(Math.abs(latitude) <= 90 && Math.abs(longitude) <= 180)) throw new BadRequestError('weather: latitude/longitude out of range');
    const params = new URLSearchParams({
      latitude: latitude.toFixed(4),
      longitude: longitude.toFixed(4),
      hourly: OPEN_METEO_HOURLY.join(','),
      timezone: 'GMT',
      past_days: String(Math.max(0, Math.min(92, request.pastDays ?? 7))),
      forecast_days: String(Math.max(1, Math.min(16, request.forecastDays ?? 3))),
    });
    return `${options.baseUrl.replace(/\/$/, '')}/v1/forecast?${params}`;
  };

  const fetchOnce = async (target: string): Promise<WeatherSeries> => {
    let response: Response;
    try {
      response = await fetch(target, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
    } catch (error) {
      throw new WeatherSourceError(`weather source unreachable: ${(error as Error).message}`);
    }
    if (!response.ok) throw new WeatherSourceError(`weather source answered HTTP ${response.status}`);
    const declared = Number(response.headers.get('content-length') ?? '0');
    if (declared > maxBytes) throw new WeatherSourceError(`weather answer of ${declared} bytes is over the ${maxBytes}-byte limit`);
    const body = await response.arrayBuffer();
    if (body.byteLength > maxBytes) throw new WeatherSourceError(`weather answer of ${body.byteLength} bytes is over the ${maxBytes}-byte limit`);
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(body));
    } catch {
      throw new WeatherSourceError('weather answer is not JSON');
    }
    try {
      return parseOpenMeteo(json);
    } catch (error) {
      throw new WeatherSourceError((error as Error).message);
    }
  };

  return {
    hourly(request) {
      const target = url(request);
      const cached = cache.get(target);
      if (cached && now() - cached.fetchedAtMs < ttlMs) return Promise.resolve({ ...cached, stale: false });
      let pending = inFlight.get(target);
      if (!pending) {
        pending = fetchOnce(target)
          .then((weather) => {
            const entry = { weather, fetchedAtMs: now() };
            cache.set(target, entry);
            return { ...entry, stale: false };
          })
          .catch((error: unknown) => {
            const last = cache.get(target);
            if (last) return { ...last, stale: true };
            throw error;
          })
          .finally(() => inFlight.delete(target));
        inFlight.set(target, pending);
      }
      return pending;
    },
  };
}
