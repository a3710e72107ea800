import { IntlMessageFormat } from 'intl-messageformat';
import de from './messages/de.json' with { type: 'json' };
import en from './messages/en.json' with { type: 'json' };

/**
 * The privacy texts: ICU MessageFormat catalogs keyed `privacy.*`, in the web app's convention
 * (`web/src/lib/i18n`), so phase 2 merges them into the app's catalogs unchanged. The server
 * needs them itself for what it writes without a browser: an export's README, the access log
 * as the member reads it in an export.
 */
export type PrivacyMessageKey = keyof typeof en;
export type PrivacyMessages = Readonly<Record<PrivacyMessageKey, string>>;

export const PRIVACY_LANGUAGES = ['en', 'de'] as const;
export type PrivacyLanguage = (typeof PRIVACY_LANGUAGES)[number];

// Typed as PrivacyMessages: a key missing from German fails the type check.
const germanMessages: PrivacyMessages = de;
export const PRIVACY_CATALOGS: Readonly<Record<PrivacyLanguage, PrivacyMessages>> = { en, de: germanMessages };

export const isPrivacyLanguage = (value: string): value is PrivacyLanguage => (PRIVACY_LANGUAGES as readonly string[]).includes(value);

const compiled = new Map<string, IntlMessageFormat>();

/** The message `key` in `language`, its placeholders filled; `locale` (en-GB, de-AT) formats the numbers in it. */
export function privacyText(language: PrivacyLanguage, key: PrivacyMessageKey, values: Record<string, string | number> = {}, locale: string = language): string {
  const cacheKey = `${locale}\u0000${language}\u0000${key}`;
  let message = compiled.get(cacheKey);
  if (!message) {
    message = new IntlMessageFormat(PRIVACY_CATALOGS[language][key], locale);
    compiled.set(cacheKey, message);
  }
  return String(message.format(values));
}
