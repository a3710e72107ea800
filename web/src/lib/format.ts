/**
 * Every number, date and unit the app shows, in the person's locale (lib/i18n userLocale), with
 * the community's currency and time zone. Energy stays whole Wh in the API; it is only scaled for
 * display here. Money arrives as exact decimal strings and is formatted from the string (Intl
 * accepts decimal strings), so no float ever touches an amount. Unit symbols (W, kWh, kg CO₂) are
 * the same in every language and live here, not in the message catalogs.
 */

export interface FormatContext {
  locale: string;
  currency: string;
  timeZone: string;
}

export interface Formatter {
  readonly context: FormatContext;
  power(watts: number): string;
  /** PV capacity: "6 kWp". */
  peakPower(watts: number): string;
  energy(wattHours: number): string;
  /** A difference of energy, with its sign: "+1.2 kWh", "-300 Wh", "0 Wh". */
  energyDifference(wattHours: number): string;
  /** Gas or water counted in whole litres: "850 L", "12.35 m³". */
  volume(litres: number): string;
  money(amount: string): string;
  /** A price: "€0.245/kWh". */
  pricePerKWh(amount: string): string;
  percent(ratio: number | null): string;
  /** A temperature: "47.5 °C". */
  temperature(celsius: number): string;
  /** A relative change, with its sign: "+12%", "-5%"; a dash without a base to compare with. */
  percentChange(ratio: number | null): string;
  co2(kilograms: string): string;
  /** Grid CO₂ intensity: "215.5 g CO₂/kWh". */
  co2Intensity(gramsPerKWh: number): string;
  distance(kilometres: number): string;
  /** Any plain number: counts, chart axis values. */
  count(n: number): string;
  /** Storage in decimal units: "950 B", "1.2 GB". */
  bytes(n: number): string;
  /** A span of time in its largest unit: "45 sec", "10 min", "3 hr". */
  duration(seconds: number): string;
  dateTime(iso: string): string;
  time(iso: string): string;
  date(iso: string): string;
  /** A calendar day "2026-03-01" (no time, no zone): the day itself wherever the viewer is. */
  day(isoDate: string): string;
  /** "December 2026" for "2026-12". */
  month(period: string): string;
  /** The short name of an ISO weekday: 1 → "Mon" … 7 → "Sun". */
  weekday(isoWeekday: number): string;
  /** A chart bar's label: "14:00" for an hour, "3 Dec" for a day, "Dec 2026" for a month, in the community's zone. */
  bucket(iso: string, unit: 'hour' | 'day' | 'month'): string;
  /**
   * The span [from, to) in the community's zone: "1–3 Dec 2026" by days (to is the end, so the
   * last day shown is the one before it), "3 Dec 2026, 10:00 – 4 Dec 2026, 10:00" with times.
   */
  span(fromIso: string, toIso: string, withTime: boolean): string;
  /** "12 seconds ago", "3 minutes ago". */
  ago(iso: string, now?: number): string;
  /** A country's name from its ISO 3166 code: "AT" → "Austria"; an unknown code as it is. */
  country(code: string): string;
  /** Text order of the locale (ä with a, "Home 2" before "Home 10"), for sorting names. */
  compare(a: string, b: string): number;
  sortBy<T>(items: readonly T[], key: (item: T) => string): T[];
  /** A day "2026-12-01" or month "2026-12" as a date field shows it, in digits: "01.12.2026", "01/12/2026", "12/2026"; "" stays "". */
  dateInput(iso: string, kind: DateInputKind): string;
  /** What a date field expects, each field by its letters in the person's language: "TT.MM.JJJJ", "DD/MM/YYYY". */
  dateInputPattern(kind: DateInputKind, letters: Readonly<Record<DateField, string>>): string;
  /**
   * Reads back what `dateInput` writes, strictly (a real calendar day, four-digit year, the locale's
   * order), and within `bounds` when given (ISO values of the same kind, both included).
   */
  parseDateInput(text: string, kind: DateInputKind, bounds?: DateInputBounds): DateInputResult;
}

/** A date field's kind: a calendar day or a month. Times of day stay native inputs (24-hour digits in every locale the app speaks). */
export type DateInputKind = 'date' | 'month';
export type DateField = 'day' | 'month' | 'year';
/** The first and last value a date field takes, as ISO days or months ("2026-12-01", "2026-12"). */
export interface DateInputBounds {
  min?: string;
  max?: string;
}
/**
 * The ISO value ("2026-12-01", "2026-12"; "" for an empty field), or why the text is none: not in
 * the pattern, no such day, or a real one before `min` or after `max`.
 */
export type DateInputResult = { iso: string } | { error: 'format' | 'calendar' | 'min' | 'max' };

type DateToken = { field: DateField } | { literal: string };

/** Direction marks and the like carry nothing a person types. */
const withoutMarks = (text: string) => text.replace(/[\u200e\u200f\u061c]/g, '');

/** The order and separators of a day in digits (Intl formatToParts), e.g. day "." month "." year. */
function dayTokens(digits: Intl.DateTimeFormat): DateToken[] {
  return digits.formatToParts(new Date(Date.UTC(2026, 11, 1))).flatMap((part): DateToken[] => {
    if (part.type === 'day' || part.type === 'month' || part.type === 'year') return [{ field: part.type }];
    const literal = withoutMarks(part.value);
    return literal ? [{ literal }] : [];
  });
}

/**
 * A month written as the day is, without the day and its separator: "MM.JJJJ" beside "TT.MM.JJJJ"
 * (Intl's own month-and-year form differs from the day's in some locales: German "12/2026").
 */
function monthTokens(day: readonly DateToken[]): DateToken[] {
  const at = day.findIndex((token) => 'field' in token && token.field === 'day');
  const separator = day[at + 1] && 'literal' in day[at + 1]! ? at + 1 : at - 1;
  return day.filter((_, index) => index !== at && index !== separator);
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** A pattern that takes the fields in the locale's order: one or two digits for day and month, four for the year; spaces around separators allowed. */
function dateRegExp(tokens: readonly DateToken[]): RegExp {
  const source = tokens.map((token) => {
    if ('field' in token) return token.field === 'year' ? '(\\d{4})' : '(\\d{1,2})';
    const literal = token.literal.trim();
    return literal ? `\\s*${escapeRegExp(literal)}\\s*` : '\\s+';
  }).join('');
  return new RegExp(`^\\s*${source}\\s*$`);
}

function parseDate(text: string, kind: DateInputKind, tokens: readonly DateToken[], pattern: RegExp): DateInputResult {
  if (text.trim() === '') return { iso: '' };
  const match = pattern.exec(text);
  if (!match) return { error: 'format' };
  const fields = tokens.filter((token): token is { field: DateField } => 'field' in token).map((token) => token.field);
  const value = (field: DateField) => Number(match[fields.indexOf(field) + 1]);
  const [year, month] = [value('year'), value('month')];
  if (year < 1000 || month < 1 || month > 12) return { error: 'calendar' };
  const yyyyMm = `${year}-${String(month).padStart(2, '0')}`;
  if (kind === 'month') return { iso: yyyyMm };
  const day = value('day');
  // Day 0 of the next month is the last of this one.
  if (day < 1 || day > new Date(Date.UTC(year, month, 0)).getUTCDate()) return { error: 'calendar' };
  return { iso: `${yyyyMm}-${String(day).padStart(2, '0')}` };
}

/** What a value shows when there is none (no denominator, no price). */
export const NO_VALUE = '–';

/** Unit symbols written out as they are (SI symbols, the same in every language). */
export const UNIT = { kWh: 'kWh', kW: 'kW', co2: 'CO₂', litre: 'L', m3: 'm³' } as const;

const fallbackContext = (): FormatContext => ({
  locale: 'en',
  currency: 'EUR',
  timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
});

/** Scales a value to the largest unit it reaches: 950 W, 1.2 kW, 3.4 MW; `signDisplay` for differences. */
function scaled(value: number, base: string, locale: string, signDisplay: Intl.NumberFormatOptions['signDisplay'] = 'auto'): string {
  const units: [number, string][] = [[1e9, `G${base}`], [1e6, `M${base}`], [1e3, `k${base}`]];
  const magnitude = Math.abs(value);
  for (const [factor, unit] of units) {
    if (magnitude >= factor) {
      const digits = magnitude / factor >= 100 ? 0 : magnitude / factor >= 10 ? 1 : 2;
      return `${new Intl.NumberFormat(locale, { maximumFractionDigits: digits, signDisplay }).format(value / factor)} ${unit}`;
    }
  }
  return `${new Intl.NumberFormat(locale, { maximumFractionDigits: 0, signDisplay }).format(value)} ${base}`;
}

/** The largest unit of time `seconds` reaches, for a relative time. */
function agoUnit(seconds: number): [number, Intl.RelativeTimeFormatUnit] {
  if (seconds < 60) return [seconds, 'second'];
  if (seconds < 3600) return [Math.round(seconds / 60), 'minute'];
  return [Math.round(seconds / 3600), 'hour'];
}

export function formatter(context: Partial<FormatContext> = {}): Formatter {
  const ctx: FormatContext = { ...fallbackContext(), ...context };
  const { locale, timeZone } = ctx;
  const money = new Intl.NumberFormat(locale, { style: 'currency', currency: ctx.currency, maximumFractionDigits: 6 });
  const percent = new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 0 });
  const percentChange = new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 0, signDisplay: 'exceptZero' });
  const kg = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 });
  const grams = new Intl.NumberFormat(locale, { maximumFractionDigits: 3 });
  const km = new Intl.NumberFormat(locale, { style: 'unit', unit: 'kilometer', maximumFractionDigits: 1, minimumFractionDigits: 1 });
  const celsius = new Intl.NumberFormat(locale, { style: 'unit', unit: 'celsius', maximumFractionDigits: 1 });
  const count = new Intl.NumberFormat(locale);
  const cubicMetres = new Intl.NumberFormat(locale, { maximumFractionDigits: 2 });
  const dateTime = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone });
  const time = new Intl.DateTimeFormat(locale, { timeStyle: 'medium', timeZone });
  const date = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone });
  const day = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: 'UTC' });
  const month = new Intl.DateTimeFormat(locale, { month: 'long', year: 'numeric', timeZone: 'UTC' });
  const weekday = new Intl.DateTimeFormat(locale, { weekday: 'short', timeZone: 'UTC' });
  const hourBucket = new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', timeZone });
  const dayBucket = new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short', timeZone });
  const monthBucket = new Intl.DateTimeFormat(locale, { month: 'short', year: 'numeric', timeZone });
  const buckets = { hour: hourBucket, day: dayBucket, month: monthBucket };
  const relative = new Intl.RelativeTimeFormat(locale, { numeric: 'always' });
  const collator = new Intl.Collator(locale, { numeric: true });
  const regions = new Intl.DisplayNames(locale, { type: 'region', fallback: 'code' });
  const dayDigits = new Intl.DateTimeFormat(locale, { year: 'numeric', month: '2-digit', day: '2-digit', timeZone: 'UTC' });
  const dayFields = dayTokens(dayDigits);
  const dateFields = { date: dayFields, month: monthTokens(dayFields) };
  const datePatterns = { date: dateRegExp(dateFields.date), month: dateRegExp(dateFields.month) };
  const formatMoney = (amount: string) => money.format(amount as `${number}`);
  return {
    context: ctx,
    power: (watts) => scaled(watts, 'W', locale),
    peakPower: (watts) => `${scaled(watts, 'W', locale)}p`,
    energy: (wattHours) => scaled(wattHours, 'Wh', locale),
    energyDifference: (wattHours) => scaled(wattHours, 'Wh', locale, 'exceptZero'),
    volume: (litres) => (Math.abs(litres) < 1000 ? `${count.format(litres)} ${UNIT.litre}` : `${cubicMetres.format(litres / 1000)} ${UNIT.m3}`),
    // At least the currency's usual digits; more only when the exact amount has them.
    money: formatMoney,
    pricePerKWh: (amount) => `${formatMoney(amount)}/${UNIT.kWh}`,
    percent: (ratio) => (ratio === null || !Number.isFinite(ratio) ? NO_VALUE : percent.format(ratio)),
    temperature: (value) => celsius.format(value),
    percentChange: (ratio) => (ratio === null || !Number.isFinite(ratio) ? NO_VALUE : percentChange.format(ratio)),
    co2: (kilograms) => `${kg.format(kilograms as `${number}`)} kg ${UNIT.co2}`,
    co2Intensity: (gramsPerKWh) => `${grams.format(gramsPerKWh)} g ${UNIT.co2}/${UNIT.kWh}`,
    distance: (kilometres) => km.format(kilometres),
    count: (n) => count.format(n),
    bytes: (n) => scaled(n, 'B', locale),
    duration: (seconds) => {
      const [value, unit] = agoUnit(Math.round(seconds));
      return new Intl.NumberFormat(locale, { style: 'unit', unit, unitDisplay: 'short' }).format(value);
    },
    dateTime: (iso) => dateTime.format(new Date(iso)),
    time: (iso) => time.format(new Date(iso)),
    date: (iso) => date.format(new Date(iso)),
    day: (isoDate) => day.format(new Date(`${isoDate}T00:00:00Z`)),
    month: (period) => month.format(new Date(`${period}-01T00:00:00Z`)),
    // 2024-01-01 was a Monday.
    weekday: (isoWeekday) => weekday.format(new Date(Date.UTC(2024, 0, isoWeekday))),
    bucket: (iso, unit) => buckets[unit].format(new Date(iso)),
    span: (fromIso, toIso, withTime) => (withTime
      ? dateTime.formatRange(new Date(fromIso), new Date(toIso))
      : date.formatRange(new Date(fromIso), new Date(Date.parse(toIso) - 1))),
    ago: (iso, now = Date.now()) => {
      const [value, unit] = agoUnit(Math.max(0, Math.round((now - Date.parse(iso)) / 1000)));
      return relative.format(-value, unit);
    },
    country: (code) => {
      try {
        return regions.of(code.toUpperCase()) ?? code;
      } catch {
        return code;
      }
    },
    compare: collator.compare,
    sortBy: (items, key) => [...items].sort((a, b) => collator.compare(key(a), key(b))),
    dateInput: (iso, kind) => {
      if (iso === '') return '';
      const parts = dayDigits.formatToParts(new Date(`${kind === 'month' ? `${iso}-01` : iso}T00:00:00Z`));
      return dateFields[kind].map((token) => ('literal' in token ? token.literal : parts.find((part) => part.type === token.field)?.value ?? '')).join('');
    },
    dateInputPattern: (kind, letters) => dateFields[kind].map((token) => ('literal' in token ? token.literal : letters[token.field])).join(''),
    parseDateInput: (text, kind, { min, max } = {}) => {
      const parsed = parseDate(text, kind, dateFields[kind], datePatterns[kind]);
      // ISO days and months compare as text.
      if ('error' in parsed || parsed.iso === '') return parsed;
      if (min !== undefined && parsed.iso < min) return { error: 'min' };
      if (max !== undefined && parsed.iso > max) return { error: 'max' };
      return parsed;
    },
  };
}
