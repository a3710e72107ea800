import { IntlMessageFormat } from 'intl-messageformat';
import { STICKER_LANGUAGES } from '@gridshare/contract/provisioning';
import de from './messages/de.json' with { type: 'json' };
import en from './messages/en.json' with { type: 'json' };

/**
 * Provisioning's words that the server writes itself, without a browser: a new batch's default
 * name and the sticker sheet. ICU MessageFormat, rendered with intl-messageformat like the web
 * app's catalogs (web/src/lib/i18n) and the other server catalogs.
 */
export type ProvisioningMessageKey = keyof typeof en;
type Catalog = Readonly<Record<ProvisioningMessageKey, string>>;

/** The languages the API offers sticker sheets in (the contract's list): each must have a catalog here. */
export type ProvisioningLanguage = (typeof STICKER_LANGUAGES)[number];

// Typed as Catalog: a key missing from German fails the type check.
const german: Catalog = de;
export const PROVISIONING_CATALOGS: Readonly<Record<ProvisioningLanguage, Catalog>> = { en, de: german };

/** The catalog language of a locale tag (de-AT → de); English for one Gridshare does not speak. */
export function languageOfLocale(locale: string): ProvisioningLanguage {
  const language = locale.split('-')[0]!.toLowerCase();
  return (STICKER_LANGUAGES as readonly string[]).includes(language) ? (language as ProvisioningLanguage) : 'en';
}

const compiled = new Map<string, IntlMessageFormat>();

/** The message `key` in `language`, its placeholders filled. */
export function provisioningText(language: ProvisioningLanguage, key: ProvisioningMessageKey, values: Record<string, string> = {}): string {
  const cacheKey = `${language}\u0000${key}`;
  let message = compiled.get(cacheKey);
  if (!message) {
    message = new IntlMessageFormat(PROVISIONING_CATALOGS[language][key], language);
    compiled.set(cacheKey, message);
  }
  return String(message.format(values));
}
