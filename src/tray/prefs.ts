import ElectronStore from 'electron-store';
import type { LanguagePref } from '../i18n/i18n.js';

/** The tray's own preferences; AI Gate's settings live in the store, shared with the CLI. */
export interface UiPrefs {
  language: LanguagePref;
}

/** `$AIGATE_HOME/ui-prefs.json` (0600), beside everything else AI Gate keeps. */
export function openPrefs(home: string): ElectronStore<UiPrefs> {
  return new ElectronStore<UiPrefs>({
    name: 'ui-prefs',
    cwd: home,
    configFileMode: 0o600,
    defaults: { language: 'system' },
    schema: { language: { type: 'string', enum: ['system', 'en', 'zh-CN'] } },
    // A damaged prefs file is only a language choice: start again rather than refuse to start.
    clearInvalidConfig: true,
  });
}
