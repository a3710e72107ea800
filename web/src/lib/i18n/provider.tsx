import { createContext, type ComponentChildren } from 'preact';
import { useCallback, useContext, useEffect, useMemo, useState } from 'preact/hooks';
import { browserLanguages, loadMessages, preferredLanguage, storeLanguage, translator, userLocale, type Language, type Messages, type Translate } from './index.js';

export interface I18n {
  language: Language;
  /** The locale of dates and numbers (lib/format.ts). */
  locale: string;
  t: Translate;
  /** Loads the language's catalog, switches the whole app to it and remembers the choice; null: the browser's language, the choice forgotten. */
  setLanguage(language: Language | null): Promise<void>;
}

const I18nContext = createContext<I18n | undefined>(undefined);

export function useI18n(): I18n {
  const i18n = useContext(I18nContext);
  if (!i18n) throw new Error('useI18n outside <I18nProvider>');
  return i18n;
}

/** The app in `initial` (language and its loaded catalog, see main.tsx) until the person chooses another. */
export function I18nProvider({ initial, children }: { initial: { language: Language; messages: Messages }; children: ComponentChildren }) {
  const [current, setCurrent] = useState(initial);
  const setLanguage = useCallback(async (choice: Language | null) => {
    const language = choice ?? preferredLanguage(null, browserLanguages());
    const messages = await loadMessages(language);
    storeLanguage(choice);
    setCurrent({ language, messages });
  }, []);
  const value = useMemo(() => {
    const locale = userLocale(current.language, browserLanguages());
    return { language: current.language, locale, t: translator(locale, current.messages), setLanguage };
  }, [current, setLanguage]);
  useEffect(() => {
    // The user's locale (en-GB, de-AT), not only the language: screen readers pronounce the page by
    // it, the browser hyphenates and spell-checks by it. (Chromium's native date input ignores it: the app's
    // own DateInput, components/date-input.tsx, writes days in the person's locale.)
    document.documentElement.lang = value.locale;
  }, [value.locale]);
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}
