/**
 * The app's words: one ICU MessageFormat catalog per language (en.json, de.json), keyed by
 * `area.name`. English is in the main bundle and is what a missing message falls back to; other
 * languages are loaded as their own chunk when chosen. Numbers, dates and units are not written
 * in messages: pages format them with lib/format.ts and pass the text in as a placeholder.
 */
import { IntlMessageFormat } from 'intl-messageformat';
import en from './en.json' with { type: 'json' };

export type MessageKey = keyof typeof en;
export type Messages = Readonly<Record<MessageKey, string>>;

export const LANGUAGES = ['en', 'de'] as const;
export type Language = (typeof LANGUAGES)[number];
export const DEFAULT_LANGUAGE: Language = 'en';

const CATALOGS: Record<Language, () => Promise<Messages>> = {
  en: async () => en,
  // Typed as Messages: a key missing from German fails the type check.
  de: async () => (await import('./de.json', { with: { type: 'json' } })).default,
};

export const loadMessages = (language: Language): Promise<Messages> => CATALOGS[language]();

export const isLanguage = (value: unknown): value is Language => (LANGUAGES as readonly unknown[]).includes(value);

const languageOf = (tag: string) => tag.toLowerCase().split('-')[0];

/** The person's choice if they made one, else the first of the browser's languages the app speaks, else English. */
export function preferredLanguage(stored: string | null, browserLanguages: readonly string[]): Language {
  if (isLanguage(stored)) return stored;
  return browserLanguages.map(languageOf).find(isLanguage) ?? DEFAULT_LANGUAGE;
}

/**
 * The locale dates and numbers are written in: the browser's own variant of the chosen language
 * (en-GB, de-AT) where it has one, else the language itself. Never the community's locale: an
 * English page shows "December", not "Dezember".
 */
export function userLocale(language: Language, browserLanguages: readonly string[]): string {
  const variant = browserLanguages.find((tag) => languageOf(tag) === language);
  try {
    return variant ? Intl.getCanonicalLocales(variant)[0]! : language;
  } catch {
    return language;
  }
}

/**
 * The locale as the API takes it for a document (PDF): language and region only ("en-GB", "de"),
 * so a script or numeric region the browser names ("en-150") falls back to the language.
 */
export function documentLocale(locale: string): string {
  return /^[a-z]{2}(-[A-Z]{2})?$/.test(locale) ? locale : locale.slice(0, 2).toLowerCase();
}

/** What a message's placeholders take: text and numbers, or (rich messages) a function per tag. */
export type MessageValues = Record<string, string | number>;
export type RichValues<T> = Record<string, string | number | T | ((chunks: (string | T)[]) => T)>;

export interface Translate {
  (key: MessageKey, values?: MessageValues): string;
  /** A message with tags (`<a>…</a>`, `<code>…</code>`), each rendered by the function of that name. */
  rich<T>(key: MessageKey, values: RichValues<T>): (string | T)[];
  readonly locale: string;
}

/**
 * `t(key, values)` in `locale` from `messages`, falling back to English for a message the
 * catalog lacks and to the key itself only when English lacks it too (the tests forbid both).
 */
export function translator(locale: string, messages: Messages): Translate {
  const compiled = new Map<MessageKey, IntlMessageFormat>();
  const format = (key: MessageKey) => {
    let message = compiled.get(key);
    if (!message) {
      message = new IntlMessageFormat(messages[key] ?? en[key] ?? key, locale);
      compiled.set(key, message);
    }
    return message;
  };
  const t = ((key: MessageKey, values?: MessageValues) => String(format(key).format(values))) as Translate;
  const rich = <T>(key: MessageKey, values: RichValues<T>): (string | T)[] => {
    const parts = format(key).format<T>(values);
    return Array.isArray(parts) ? parts : [parts as string | T];
  };
  return Object.assign(t, { rich, locale });
}

const STORAGE_KEY = 'gridshare.language';

/**
 * The language chosen on the account page, kept in this browser too: the first frame is in it before
 * the account (which keeps the choice, `users.locale`) is loaded.
 */
export function storedLanguage(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

/** Keeps the choice in this browser; null forgets it (the browser's languages decide again). */
export function storeLanguage(language: Language | null): void {
  try {
    if (language === null) localStorage.removeItem(STORAGE_KEY);
    else localStorage.setItem(STORAGE_KEY, language);
  } catch {
    // Storage disabled: the choice lasts until the page is closed.
  }
}

export const browserLanguages = (): readonly string[] =>
  typeof navigator === 'undefined' ? [] : navigator.languages?.length ? navigator.languages : [navigator.language];
