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
