import { IntlMessageFormat } from 'intl-messageformat';
import de from './messages/de.json' with { type: 'json' };
import en from './messages/en.json' with { type: 'json' };

/**
 * Billing's texts (`messages/*.json`, ICU MessageFormat): what statements and invoices name.
 * A local date (a flex order's Period) is passed as an ISO date and formatted in the locale as
 * that calendar day: it is read and written in UTC, so no zone can move it to a neighbouring day.
 */
export type BillingMessageKey = keyof typeof en;
type BillingMessages = Readonly<Record<BillingMessageKey, string>>;

// Typed as BillingMessages: a key missing from German fails the type check.
const germanMessages: BillingMessages = de;
const CATALOGS: Readonly<Record<string, BillingMessages>> = { en, de: germanMessages };
const LOCAL_DATE_FORMATS = { date: { day: { year: 'numeric', month: '2-digit', day: '2-digit', timeZone: 'UTC' } } } as const;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

const compiled = new Map<string, IntlMessageFormat>();

/** The message `key` in the locale's language (English where there is no catalog), values filled, ISO dates as local days. */
export function billingText(locale: string, key: BillingMessageKey, values: Record<string, string | number> = {}): string {
  const language = locale.split('-')[0]!.toLowerCase();
  const cacheKey = `${locale}\u0000${key}`;
  let message = compiled.get(cacheKey);
  if (!message) {
    message = new IntlMessageFormat((CATALOGS[language] ?? en)[key], locale, LOCAL_DATE_FORMATS);
    compiled.set(cacheKey, message);
  }
  const filled = Object.fromEntries(Object.entries(values).map(([name, value]) =>
    [name, typeof value === 'string' && ISO_DATE.test(value) ? new Date(`${value}T00:00:00Z`) : value]));
  return String(message.format(filled));
}

export interface BillingFormat {
  /** An exact decimal amount ("-3.12") with the currency, in the locale's style. */
  money(amount: string, currency: string): string;
  /** An exact decimal ("24.000", "0.1500") with as many decimals as it is written with. */
  decimal(text: string): string;
  /** A local date "2026-10-31" as that calendar day. */
  date(isoDate: string): string;
}

const EXACT = /^-?\d{1,18}(\.(\d{1,9}))?$/;

/**
 * Numbers, amounts and dates of a document in one locale. Decimal strings are formatted as
 * strings (Intl.NumberFormat v3), so no figure passes through a float on its way to the page.
 */
export function billingFormat(locale: string): BillingFormat {
  const date = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: 'UTC' });
  const money = new Map<string, Intl.NumberFormat>();
  const decimals = new Map<number, Intl.NumberFormat>();
  const exact = (text: string) => {
    const match = EXACT.exec(text);
    if (!match) throw new Error(`not an exact decimal: "${text}"`);
    return { value: text as `${number}`, digits: match[2]?.length ?? 0 };
  };
  return {
    money(amount, currency) {
      let format = money.get(currency);
      if (!format) money.set(currency, format = new Intl.NumberFormat(locale, { style: 'currency', currency }));
      return format.format(exact(amount).value);
    },
    decimal(text) {
      const { value, digits } = exact(text);
      let format = decimals.get(digits);
      if (!format) decimals.set(digits, format = new Intl.NumberFormat(locale, { minimumFractionDigits: digits, maximumFractionDigits: digits }));
      return format.format(value);
    },
    date: (isoDate) => date.format(new Date(`${isoDate}T00:00:00Z`)),
  };
}
