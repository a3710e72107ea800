/**
 * The demo community "Sunny Street" as the demo seeds it, with synthetic consumption, PV and heat
 * (a seeded household profile, a sunny/cloudy day pattern) over `steps` quarter hours from Monday
 * 1 June 2026, local midnight in Vienna: the input of optimise's `assembleScenario` but for the
 * clock, the horizon, the forecasts' window and the devices' state (bench:optimise-week and
 * bench:optimise-plan-size).
 */
import { createLocalClock } from '../../server/src/kernel/calendar.js';
import type { AssemblyInput, DeviceInput, PointForecasts, PointInput } from '../../server/src/optimise/domain/assemble.js';

const DAY_STEPS = 96;
export const SUNNY_STREET_START = Date.UTC(2026, 4, 31, 22, 0);

function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function sunnyStreet(days: number, steps: number) {
  const rnd = random(15);
  const localHour = (t: number) => ((t / 4 + 0) % 24);
  // Cloudiness per day: mostly sunny, one grey day.
  const sky = Array.from({ length: days + 2 }, (_, d) => (d === 3 ? 0.3 : 0.75 + 0.25 * rnd()));
  const pvShape = (t: number) => Math.max(0, Math.sin(((localHour(t) - 5.5) / 15) * Math.PI)) * sky[Math.floor(t / DAY_STEPS)]!;
  const household = () => {
    const scale = 0.7 + 0.6 * rnd();
    return Array.from({ length: steps }, (_, t) => {
      const h = localHour(t);
      const peaks = 450 * Math.exp(-(((h - 7.5) / 1.2) ** 2)) + 900 * Math.exp(-(((h - 19) / 2) ** 2)) + 250 * Math.exp(-(((h - 12.5) / 1.5) ** 2));
      return Math.round((200 + peaks) * scale * (0.8 + 0.4 * rnd()));
    });
  };

  const points: PointInput[] = [];
  const devices: DeviceInput[] = [];
  const truth = new Map<string, { consumption: number[]; production: number[]; heat?: number[] }>();
  for (let n = 1; n <= 30; n++) {
    const id = `p${n}`;
    points.push({ id, memberId: `m${n}`, name: `Sunny Street ${n}`, communityBattery: false, batteryCapacityWh: null });
    const kwp = n % 3 === 0 ? 5_000 + (n % 4) * 1_000 : 0;
    const heat = n === 5 ? Array.from({ length: steps }, (_, t) => Math.round(600 + 500 * Math.cos(((localHour(t) - 6) / 24) * 2 * Math.PI))) : undefined;
    const load = household();
    truth.set(id, {
      consumption: heat ? load.map((w, t) => w + heat[t]!) : load,
      production: Array.from({ length: steps }, (_, t) => Math.round(kwp * 0.8 * pvShape(t))),
      ...(heat ? { heat } : {}),
    });
  }
  points.push({ id: 'library', memberId: 'library', name: 'District library', communityBattery: false, batteryCapacityWh: null });
  truth.set('library', { consumption: Array.from({ length: steps }, (_, t) => (localHour(t) >= 9 && localHour(t) < 19 ? 4_000 : 600)), production: Array.from({ length: steps }, (_, t) => Math.round(60_000 * 0.8 * pvShape(t))) });
  points.push({ id: 'battery', memberId: 'manager', name: 'Community battery', communityBattery: true, batteryCapacityWh: 100_000 });
  const device = (id: string, kind: string, meteringPointId: string, limits: DeviceInput['limits'] = {}): DeviceInput => ({ id, name: id, kind, meteringPointId, controllable: true, limits, overrideUntilMs: null });
  devices.push(
    device('community-battery', 'battery', 'battery', { reserveSoc: 0.1 }),
    device('home-battery', 'battery', 'p1', { reserveSoc: 0.2 }),
    device('ev-charger', 'ev-charger', 'p1', { readyBy: '07:30', pluggedInFrom: '18:00', minChargeWh: 20_000 }),
    device('heat-pump', 'heat-pump', 'p5', { comfortMinC: 45, comfortMaxC: 55 }),
  );

  const clock = createLocalClock('Europe/Vienna');
  const tariff = { gridPrice: '0.2850', communityPrice: '0.1400', feedInPrice: '0.0700', timeOfUse: null };
  const forecastsFrom = (t0: number, n: number) => new Map<string, PointForecasts>([...truth].map(([id, s]) => [id, {
    consumption: s.consumption.slice(t0, t0 + n), production: s.production.slice(t0, t0 + n), ...(s.heat ? { heat: s.heat.slice(t0, t0 + n) } : {}),
  }]));
  const base: Omit<AssemblyInput, 'nowMs' | 'steps' | 'forecasts' | 'state'> = {
    name: 'Sunny Street week', timeZone: 'Europe/Vienna', clock, currency: 'EUR', weights: { cost: 1, co2PerKg: 0, importPerKwh: 0, exportPerKwh: 0, peakPerKw: 0 },
    tariff, points, devices, requests: [], solver: { timeLimitS: 20 },
  };
  return { points, devices, truth, forecastsFrom, base };
}
