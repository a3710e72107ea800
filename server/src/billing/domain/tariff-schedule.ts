import { parsePrice, type MicroPrice } from '../../kernel/money.js';

/** A tariff as the registry stores it (decimal strings per kWh). */
export interface TariffVersion {
  readonly id: string;
  readonly name: string;
  /** First local day the tariff applies, `YYYY-MM-DD` in the community's zone. */
  readonly validFrom: string;
  readonly gridPrice: string;
  readonly communityPrice: string;
  readonly feedInPrice: string;
  readonly gridFeeReduction: string;
  readonly timeOfUse: readonly { days: readonly number[]; from: string; to: string; gridPrice: string }[] | null;
}

export interface PricesAt {
  readonly tariff: TariffVersion;
  readonly grid: MicroPrice;
  readonly community: MicroPrice;
  readonly feedIn: MicroPrice;
  readonly gridFeeReduction: MicroPrice;
}

const minutes = (clock: string) => Number(clock.slice(0, 2)) * 60 + Number(clock.slice(3, 5));

/**
 * Which prices hold at an instant: the latest tariff whose first local day has begun, and its
 * time-of-use grid price where a window covers the local time ("to" 00:00 means midnight).
 */
export function tariffSchedule(tariffs: readonly TariffVersion[], timeZone: string): (utcMs: number) => PricesAt | undefined {
  const sorted = [...tariffs].sort((a, b) => a.validFrom.localeCompare(b.validFrom));
  const parsed = sorted.map((tariff) => ({
    tariff,
    base: {
      tariff,
      grid: parsePrice(tariff.gridPrice),
      community: parsePrice(tariff.communityPrice),
      feedIn: parsePrice(tariff.feedInPrice),
      gridFeeReduction: parsePrice(tariff.gridFeeReduction),
    } satisfies PricesAt,
    windows: (tariff.timeOfUse ?? []).map((w) => ({
      days: new Set(w.days),
      from: minutes(w.from),
      to: w.to === '00:00' ? 1440 : minutes(w.to),
      grid: parsePrice(w.gridPrice),
    })),
  }));
  const format = new Intl.DateTimeFormat('en-CA', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', weekday: 'short',
  });
  const isoWeekday: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };
  const cache = new Map<number, { date: string; minute: number; weekday: number }>();
  const localAt = (utcMs: number) => {
    // Offsets change on quarter hours, so the local time of a quarter hour is enough to cache.
    let local = cache.get(utcMs);
    if (!local) {
      const parts = Object.fromEntries(format.formatToParts(utcMs).map((p) => [p.type, p.value]));
      local = { date: `${parts.year}-${parts.month}-${parts.day}`, minute: Number(parts.hour) * 60 + Number(parts.minute), weekday: isoWeekday[parts.weekday!]! };
      if (cache.size > 50_000) cache.clear();
      cache.set(utcMs, local);
    }
    return local;
  };

  return (utcMs) => {
    const local = localAt(utcMs);
    let current: (typeof parsed)[number] | undefined;
    for (const candidate of parsed) {
      if (candidate.tariff.validFrom <= local.date) current = candidate;
      else break;
    }
    if (!current) return undefined;
    const window = current.windows.find((w) => w.days.has(local.weekday) && local.minute >= w.from && local.minute < w.to);
    return window ? { ...current.base, grid: window.grid } : current.base;
  };
}
