/**
 * The OS proxy settings, as the tray reads them through Electron
 * (`session.resolveProxy(url)`), which answers in PAC form:
 * `"PROXY h:p; SOCKS5 h:p; DIRECT"`. The first entry AI Gate can use wins.
 */

/** Electron's resolver: the PAC-style answer for one URL. */
export type SystemProxyResolver = (url: string) => Promise<string>;

const SCHEME: Record<string, string> = { PROXY: 'http', HTTP: 'http', HTTPS: 'https', SOCKS5: 'socks5h' };

/**
 * The proxy URL of the first usable entry, or undefined for `DIRECT` (also
 * when nothing in the answer is usable). SOCKS5 entries resolve names on the
 * proxy, as Chromium does; plain `SOCKS` (v4) entries are skipped.
 */
export function parsePacAnswer(answer: string): string | undefined {
  for (const part of answer.split(';')) {
    const [kind = '', hostPort] = part.trim().split(/\s+/);
    const type = kind.toUpperCase();
    if (type === 'DIRECT') return undefined;
    const scheme = SCHEME[type];
    if (scheme && hostPort && /^(\[[0-9a-f:.]+\]|[^\s:/[\]]+)(:\d{1,5})?$/i.test(hostPort)) return `${scheme}://${hostPort}`;
  }
  return undefined;
}
