import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { catalogues, formatDuration, LOCALES, matchLocale, resolveLocale, translator } from '../src/i18n/i18n.js';
import { ROOT } from './_helpers.js';

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

/** Every `t('literal.key'` in the tray and the popovers. */
function keysUsedInSource(): Map<string, string> {
  const used = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (/\.tsx?$/.test(entry.name)) {
        for (const m of fs.readFileSync(file, 'utf8').matchAll(/\bt\(\s*'([a-zA-Z0-9.-]+)'/g)) used.set(m[1]!, path.relative(ROOT, file));
      }
    }
  };
  for (const dir of ['src/tray', 'src/windows', 'src/i18n']) walk(path.join(ROOT, dir));
  return used;
}

describe('language catalogues', () => {
  it('have the same keys in every language', () => {
    const [first, ...rest] = LOCALES;
    const reference = Object.keys(catalogues[first]).sort();
    for (const locale of rest) {
      const keys = Object.keys(catalogues[locale]).sort();
      const missing = reference.filter((k) => !keys.includes(k));
      const extra = keys.filter((k) => !reference.includes(k));
      assert.deepEqual(missing, [], `${locale}.json lacks keys that ${first}.json has`);
      assert.deepEqual(extra, [], `${locale}.json has keys that ${first}.json lacks`);
    }
  });

  it('use the same placeholders for a key in every language, and no empty text', () => {
    for (const key of Object.keys(catalogues.en)) {
      for (const locale of LOCALES) {
        const text = catalogues[locale][key]!;
        assert.ok(text.trim(), `${locale}.json: "${key}" is empty`);
        assert.deepEqual(placeholders(text), placeholders(catalogues.en[key]!), `${locale}.json: "${key}" has other placeholders than en.json`);
      }
    }
  });

  it('hold every key the tray and popovers ask for', () => {
    const used = keysUsedInSource();
    assert.ok(used.size > 50, `found only ${used.size} keys in the sources; the scan is broken`);
    for (const [key, file] of used) {
      for (const locale of LOCALES) assert.ok(key in catalogues[locale], `${file} uses "${key}", missing from ${locale}.json`);
    }
  });
});

describe('locale choice', () => {
  it('follows the OS preference list, reading any Chinese as Simplified', () => {
    assert.equal(matchLocale(['zh-Hans-CN', 'en-US']), 'zh-CN');
    assert.equal(matchLocale(['zh-TW']), 'zh-CN');
    assert.equal(matchLocale(['fr-FR', 'en-GB', 'zh-CN']), 'en');
    assert.equal(matchLocale(['fr-FR', 'de']), 'en');
    assert.equal(matchLocale([]), 'en');
  });

  it('lets the menu choice win over the OS', () => {
    assert.equal(resolveLocale('en', ['zh-CN']), 'en');
    assert.equal(resolveLocale('system', ['zh-CN']), 'zh-CN');
    assert.equal(resolveLocale(undefined, ['en-US']), 'en');
  });

  it('fills placeholders and formats durations per language', () => {
    assert.equal(translator('en')('notify.back.title', { name: 'work' }), 'work is back');
    assert.equal(formatDuration(2 * 3600_000 + 13 * 60_000, translator('en')), '2h13m');
    assert.equal(formatDuration(2 * 3600_000 + 13 * 60_000, translator('zh-CN')), '2小时13分');
    assert.equal(formatDuration(45_000, translator('zh-CN')), '45秒');
  });
});
