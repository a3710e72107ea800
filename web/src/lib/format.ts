/**
 * Numbers with units in the community's locale. Energy stays whole Wh in the API; it is only
 * scaled for display here. Money arrives as exact decimal strings and is formatted from the
 * string (Intl accepts decimal strings), so no float ever touches an amount.
 */

export interface FormatContext {
  locale: string;
  currency: string;
  timeZone: string;
}

export interface Formatter {
  readonly context: FormatContext;
  power(watts: number): string;
  energy(wattHours: number): string;
  money(amount: string): string;
  percent(ratio: number | null): string;
  co2(kilograms: string): string;
  count(n: number): string;
  dateTime(iso: string): string;
  time(iso: string): string;
  date(iso: string): string;
  month(period: string): string;
}

const fallbackContext = (): FormatContext => ({
  locale: typeof navigator === 'undefined' ? 'en' : navigator.language,
  currency: 'EUR',
  timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
});

/** Scales a value to the largest unit it reaches: 950 W, 1.2 kW, 3.4 MW. */
function scaled(value: number, base: string, locale: string): string {
  const units: [number, string][] = [[1e9, `G${base}`], [1e6, `M${base}`], [1e3, `k${base}`]];
  const magnitude = Math.abs(value);
  for (const [factor, unit] of units) {
    if (magnitude >= factor) {
      const digits = magnitude / factor >= 100 ? 0 : magnitude / factor >= 10 ? 1 : 2;
      return `${new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(value / factor)} ${unit}`;
    }
  }
  return `${new Intl.NumberFormat(locale, { maximumFractionDigits: 0 }).format(value)} ${base}`;
}

export function formatter(context: Partial<FormatContext> = {}): Formatter {
  const ctx: FormatContext = { ...fallbackContext(), ...context };
  const { locale, timeZone } = ctx;
  const money = new Intl.NumberFormat(locale, { style: 'currency', currency: ctx.currency, maximumFractionDigits: 6 });
  const percent = new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 0 });
  const kg = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 });
  const count = new Intl.NumberFormat(locale);
  const dateTime = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone });
  const time = new Intl.DateTimeFormat(locale, { timeStyle: 'medium', timeZone });
  const date = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone });
  const month = new Intl.DateTimeFormat(locale, { month: 'long', year: 'numeric', timeZone: 'UTC' });
  return {
    context: ctx,
    power: (watts) => scaled(watts, 'W', locale),
    energy: (wattHours) => scaled(wattHours, 'Wh', locale),
    // At least the currency's usual digits; more only when the exact amount has them.
    money: (amount) => money.format(amount as `${number}`),
    percent: (ratio) => (ratio === null || !Number.isFinite(ratio) ? '–' : percent.format(ratio)),
    co2: (kilograms) => `${kg.format(kilograms as `${number}`)} kg CO₂`,
    count: (n) => count.format(n),
    dateTime: (iso) => dateTime.format(new Date(iso)),
    time: (iso) => time.format(new Date(iso)),
    date: (iso) => date.format(new Date(iso)),
    month: (period) => month.format(new Date(`${period}-01T00:00:00Z`)),
  };
}
