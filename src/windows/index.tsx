import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { matchLocale, translator } from '../i18n/i18n.js';
import { AccountsView } from './accounts-view.js';
import { BackupsView } from './backups-view.js';
import { Shell } from './components.js';
import { LanguageContext } from './i18n.js';
import { McpView } from './mcp-view.js';
import { readRoute, routeHash, type View } from './route.js';
import { StatsView } from './stats-view.js';
import './app.css';

function App() {
  const [route, setRoute] = useState(() => readRoute(location));
  useEffect(() => {
    const onHash = () => setRoute(readRoute(location));
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  const locale = route.lang ?? matchLocale(navigator.languages);
  const language = useMemo(() => ({ locale, t: translator(locale) }), [locale]);
  useEffect(() => {
    document.documentElement.lang = locale;
    document.title = `AI Gate · ${language.t(`ui.tab.${route.view}`)}`;
  }, [locale, route.view]);
  const show = (view: View) => {
    location.hash = routeHash({ view, lang: route.lang });
  };
  return (
    <LanguageContext.Provider value={language}>
      <Shell view={route.view} onView={show}>
        {route.view === 'accounts' ? <AccountsView /> : null}
        {route.view === 'stats' ? <StatsView /> : null}
        {route.view === 'mcp' ? <McpView /> : null}
        {route.view === 'backups' ? <BackupsView restore={route.params.get('restore') ?? undefined} /> : null}
      </Shell>
    </LanguageContext.Provider>
  );
}

// Escape closes the popover in the tray (its preload exposes `aigateTray`); in a browser it does nothing.
addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && !e.defaultPrevented) (window as { aigateTray?: { hide(): void } }).aigateTray?.hide();
});

render(<App />, document.getElementById('app')!);
