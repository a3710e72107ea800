/**
 * Seeded synthetic communities for the benchmark and tests: each household has a load, a
 * battery and one deferrable appliance, most have PV, every fifth an EV and every fifth
 * (others) a heat pump with a tank; one day-ahead-like price curve for all. Returns scenario
 * JSON, so it also goes through the scenario checks.
 */
export interface CommunityOptions {
  readonly households: number;
  readonly seed?: number;
  readonly steps?: number;
  /** UTC start; default 2026-06-01T10:00:00Z (local noon in Vienna, summer time: evening, night and the next morning in one day). */
  readonly start?: string;
}

function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const round = (v: number, digits = 0): number => Number(v.toFixed(digits));

export function generateCommunity(options: CommunityOptions): Record<string, unknown> {
  const { households, seed = 1, steps = 96, start = '2026-06-01T10:00:00Z' } = options;
  const rnd = random(seed);
  const startMs = Date.parse(start);
  /** Local hour of day (Vienna summer time, UTC+2) at step t. */
  const hour = (t: number) => (((startMs / 3_600_000 + 2 + t / 4) % 24) + 24) % 24;
  const at = (t: number) => new Date(startMs + t * 900_000).toISOString().replace('.000Z', 'Z');
  // A day-ahead-like curve: cheap at night and at midday (solar), dear in the evening.
  const spot = Array.from({ length: steps }, (_, t) => {
    const h = hour(t);
    return 0.09 + 0.05 * Math.cos(((h - 19) / 24) * 2 * Math.PI) - 0.04 * Math.exp(-(((h - 13) / 2.5) ** 2)) + 0.01 * (rnd() - 0.5);
  });
  const importPrice = spot.map((p) => round(p + 0.15, 6));
  const exportPrice = spot.map((p) => round(Math.max(0, p * 0.9 - 0.01), 6));
  const sites = Array.from({ length: households }, (_, i) => {
    const load = Array.from({ length: steps }, (_, t) => {
      const h = hour(t);
      const peaks = 450 * Math.exp(-(((h - 7.5) / 1.2) ** 2)) + 800 * Math.exp(-(((h - 19) / 2) ** 2));
      return round((180 + 200 * rnd()) + peaks * (0.6 + 0.8 * rnd()));
    });
    const pvPeak = rnd() < 0.6 ? 3000 + 5000 * rnd() : 0;
    const cloud = 0.6 + 0.4 * rnd();
    const assets: Record<string, unknown>[] = [{ type: 'load', id: 'base', powerW: load }];
    if (pvPeak > 0) {
      const pv = Array.from({ length: steps }, (_, t) => round(Math.max(0, pvPeak * cloud * Math.sin(((hour(t) - 6) / 14) * Math.PI)) * (0.85 + 0.15 * rnd())));
      assets.push({ type: 'producer', id: 'pv', forecastW: pv.map((w) => (w > 0 ? w : 0)), curtailable: i % 3 === 0 });
    }
    const capacity = 5000 + Math.floor(rnd() * 9) * 1000;
    assets.push({ type: 'storage', id: 'battery', capacityWh: capacity, maxChargeW: round(capacity * 0.5), maxDischargeW: round(capacity * 0.5), chargeEfficiency: 0.95, dischargeEfficiency: 0.95, socMin: 0.1, initialSoc: round(0.2 + 0.6 * rnd(), 2) });
    const earliest = Math.floor(rnd() * 16); // 12:00 to 16:00 local
    assets.push({
      type: 'appliance',
      id: i % 2 === 0 ? 'washer' : 'dishwasher',
      profileW: i % 2 === 0 ? [2100, 1900, 300, 250, 600, 150] : [1800, 200, 150, 1700, 100],
      earliestStart: at(earliest),
      readyBy: at(Math.min(steps, earliest + 24 + Math.floor(rnd() * 24))),
    });
    if (i % 5 === 0) {
      const arrival = 20 + Math.floor(rnd() * 8); // 17:00 to 19:00 local
      assets.push({
        type: 'ev', id: 'car', capacityWh: 60000, maxPowerW: 11000, minPowerW: 4100, efficiency: 0.92,
        sessions: [{ arrival: at(arrival), departure: at(76 + Math.floor(rnd() * 8)) /* 07:00 to 09:00 */, socAtConnectionWh: round(15000 + 20000 * rnd()), energyNeededWh: round(10000 + 15000 * rnd()) }],
      });
    }
    if (i % 5 === 2) {
      assets.push({
        type: 'heat-pump', id: 'heatpump', maxElectricW: 3000, minElectricW: 900, cop: round(3 + rnd(), 2), tankVolumeL: 300,
        tempMinC: 45, tempMaxC: 60, initialTempC: round(48 + 8 * rnd(), 1), lossWPerK: 1.5, ambientC: 18,
        heatDemandW: Array.from({ length: steps }, (_, t) => round(150 + 2200 * Math.exp(-(((hour(t) - 7) / 1) ** 2)) + 1800 * Math.exp(-(((hour(t) - 20) / 1.5) ** 2)))),
      });
    }
    return { id: `h${String(i + 1).padStart(3, '0')}`, member: `member${i + 1}`, grid: { importPrice, exportPrice, importLimitW: 17000 }, assets };
  });
  return {
    name: `generated-${households}`,
    start,
    steps,
    stepMinutes: 15,
    timeZone: 'Europe/Vienna',
    currency: 'EUR',
    objective: 'cost',
    community: { grid: { co2GPerKWh: Array.from({ length: steps }, (_, t) => round(250 + 150 * Math.cos(((hour(t) - 20) / 24) * 2 * Math.PI))) } },
    sites,
  };
}
