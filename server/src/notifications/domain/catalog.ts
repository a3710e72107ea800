import { IntlMessageFormat } from 'intl-messageformat';
import en from './messages/en.json' with { type: 'json' };
import de from './messages/de.json' with { type: 'json' };
import { memo } from './memo.js';

/**
 * The server's words: ICU MessageFormat catalogs per language, rendered with intl-messageformat
 * like the web app's (web/src/lib/i18n). English is complete and what a missing message falls
 * back to; the tests require every catalog to have every English key.
 */
export const LANGUAGES = ['en', 'de'] as const;
export type Language = (typeof LANGUAGES)[number];
export type MessageKey = keyof typeof en;
export type Catalog = Readonly<Record<MessageKey, string>>;

export const CATALOGS: Readonly<Record<Language, Catalog>> = { en, de };

export const isLanguage = (value: unknown): value is Language => (LANGUAGES as readonly unknown[]).includes(value);

/**
 * The locale a person reads in: theirs if Gridshare speaks its language, else the community's,
 * else English. A locale keeps its region (de-AT writes "Jänner"), an unknown tag is ignored.
 */
export function recipientLocale(...candidates: readonly (string | undefined)[]): { language: Language; locale: string } {
  for (const candidate of candidates) {
    if (!candidate) continue;
    let canonical: string;
    try {
      canonical = Intl.getCanonicalLocales(candidate)[0]!;
    } catch {
      continue;
    }
    const language = canonical.split('-')[0]!.toLowerCase();
    if (isLanguage(language)) return { language, locale: canonical };
  }
  return { language: 'en', locale: 'en' };
}

export type MessageValues = Readonly<Record<string, string | number>>;
export type Translate = (key: MessageKey, values?: MessageValues) => string;

const translators = memo((key) => {
  const [language, locale] = key.split('|') as [Language, string];
  return translator(language, locale);
}, 200);

/** The translator of the built-in catalogs for a locale, compiled messages kept for the next email. */
export const cachedTranslator = (language: Language, locale: string): Translate => translators(`${language}|${locale}`);

export function translator(language: Language, locale: string, catalogs: Readonly<Record<Language, Catalog>> = CATALOGS): Translate {
  const compiled = new Map<MessageKey, IntlMessageFormat>();
  return (key, values) => {
    let message = compiled.get(key);
    if (!message) {
      message = new IntlMessageFormat(catalogs[language][key] ?? catalogs.en[key], locale);
      compiled.set(key, message);
    }
    return String(message.format(values));
  };
}
