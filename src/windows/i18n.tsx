import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { translator, type Locale, type Translate } from '../i18n/i18n.js';

export interface Language {
  locale: Locale;
  t: Translate;
}

export const LanguageContext = createContext<Language>({ locale: 'en', t: translator('en') });

/** `const { t, locale } = useLanguage();` */
export const useLanguage = () => useContext(LanguageContext);
