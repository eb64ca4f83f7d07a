/**
 * Headless Chromium (Debian's `chromium` driven by playwright-core) for the
 * popover tests: one browser per test file, pages signed in through the
 * gateway's own one-time login link, screenshots saved to spec/artifacts/.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { after } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { RunningGateway } from '../../src/launch.js';
import { ROOT } from '../_helpers.js';

export const CHROMIUM = process.env.AIGATE_CHROMIUM || '/usr/bin/chromium';
export const ARTIFACTS = path.join(ROOT, 'spec/artifacts');

export async function launchChromium(): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  after(() => browser.close());
  return browser;
}

export interface PopoverOptions {
  lang?: 'en' | 'zh-CN';
  colorScheme?: 'light' | 'dark';
  /** Extra fragment parameters, e.g. `{ restore: id }`. */
  params?: Record<string, string>;
  /** The page's clock stands still at this time (ms since epoch), as the gateway's TestClock does. */
  now?: number;
}

/**
 * Opens a popover the way the tray does: a 380×560 page loaded through a
 * fresh login link with the view in the fragment (the redirect keeps it).
 * Page errors fail the test.
 */
export async function openPopover(browser: Browser, running: RunningGateway, view: string, options: PopoverOptions = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 380, height: 560 }, colorScheme: options.colorScheme ?? 'light', locale: 'en-US', deviceScaleFactor: 2 });
  const page = await context.newPage();
  if (options.now !== undefined) await page.clock.setFixedTime(options.now);
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(err.message));
  page.on('console', (msg) => msg.type() === 'error' && !/status of 4\d\d/.test(msg.text()) && problems.push(msg.text()));
  (page as Page & { problems: string[] }).problems = problems;
  const hash = new URLSearchParams({ view, ...(options.lang ? { lang: options.lang } : {}), ...options.params });
  await page.goto(`${running.admin.loginUrl()}#${hash}`);
  await page.waitForSelector(`[data-testid="view-${view}"]`);
  return page;
}

/** Script errors the page logged; a clean popover has none. */
export const pageProblems = (page: Page): string[] => (page as Page & { problems?: string[] }).problems ?? [];

/**
 * Saves `spec/artifacts/<name>.png`. The popover scrolls inside its frame, so
 * the page is made as tall as its content for the picture, then put back.
 */
export async function screenshot(page: Page, name: string): Promise<string> {
  await fs.mkdir(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  const viewport = page.viewportSize()!;
  const height = await page.evaluate(() => {
    const content = document.querySelector('.content');
    const bar = document.querySelector('.bar');
    return Math.ceil((content?.scrollHeight ?? 0) + (bar?.getBoundingClientRect().height ?? 0));
  });
  await page.setViewportSize({ width: viewport.width, height: Math.max(viewport.height, height) });
  await page.screenshot({ path: file });
  await page.setViewportSize(viewport);
  return file;
}
