import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { WEB_DIST } from '../../server/src/web/routes.js';
import en from '../src/lib/i18n/en.json' with { type: 'json' };
import { launchChromium } from './chromium.js';

/** Where screenshots of the main pages are kept for people to look at (git-ignored). */
export const ARTIFACTS = join(import.meta.dirname, '../../test-artifacts');

export async function launchBrowser(extraArgs: string[] = []): Promise<Browser> {
  if (!existsSync(join(WEB_DIST, 'index.html'))) throw new Error('web/dist is missing: npm run build:web (npm test builds it first)');
  return launchChromium(extraArgs);
}

export const PHONE = { width: 375, height: 740 };
export const LAPTOP = { width: 1280, height: 860 };
/** The browser's language: the app speaks English and writes numbers and dates the British way. */
export const BROWSER_LOCALE = 'en-GB';
/** A day "2026-03-01" or a month "2026-03" as a person types it into the app's date fields in that locale: "01/03/2026", "03/2026". */
export const typed = (iso: string): string => iso.split('-').reverse().join('/');

/** A fresh browser profile (own cookies) on the platform. */
export async function openContext(browser: Browser, baseURL: string, viewport = LAPTOP): Promise<BrowserContext> {
  const context = await browser.newContext({ baseURL: baseURL.replace('localhost', '127.0.0.1'), viewport, acceptDownloads: true, locale: BROWSER_LOCALE });
  context.setDefaultTimeout(15_000);
  return context;
}

/** Logs in through the form, as a person would, and waits until the app has left the login page. */
export async function logIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL((url) => url.pathname !== '/login');
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/**
 * Fails the test on any script error in the page and on anything the Content Security Policy
 * blocked (Chromium reports each violation on the console): a broken page must not pass quietly.
 */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) errors.push(`CSP violation: ${message.text()}`);
  });
  return errors;
}

/** Everything the page shows or reads out: its text (screen-reader-only text too), title and labelling attributes. */
export function shownText(page: Page): Promise<string> {
  return page.evaluate(() => {
    const texts = [document.title, document.body.innerText];
    for (const element of document.querySelectorAll('[aria-label], [title], [placeholder], [alt], [data-label]')) {
      for (const name of ['aria-label', 'title', 'placeholder', 'alt', 'data-label']) texts.push(element.getAttribute(name) ?? '');
    }
    return texts.join('\n');
  });
}

/** Catalog keys the page shows instead of their message (a message that is missing or misnamed). */
export async function rawKeysShown(page: Page): Promise<string[]> {
  const shown = await shownText(page);
  return Object.keys(en).filter((key) => shown.includes(key));
}

/** Presses Tab (or Shift+Tab) until the focused element's text is `text`; fails if it never gets there. */
export async function tabTo(page: Page, text: string, { backwards = false, maxPresses = 60 } = {}): Promise<void> {
  for (let i = 0; i < maxPresses; i++) {
    await page.keyboard.press(backwards ? 'Shift+Tab' : 'Tab');
    if ((await page.evaluate(() => document.activeElement?.textContent?.trim() ?? '')) === text) return;
  }
  throw new Error(`Tab never reached "${text}" on ${page.url()}`);
}

/**
 * Opens each page through the phone menu with the keyboard alone (Tab, Enter) and checks its
 * heading took the focus; returns after the last one.
 */
export async function visitByKeyboard(page: Page, pages: [link: string, heading: string][], onPage?: (link: string) => Promise<void>): Promise<void> {
  // Start from the page's heading, where the focus is once a page has loaded.
  await page.waitForFunction(() => document.activeElement?.tagName === 'H1');
  for (const [link, heading] of pages) {
    // From the heading, the menu button is just before it.
    await tabTo(page, 'Menu', { backwards: true });
    await page.keyboard.press('Enter');
    await tabTo(page, link);
    await page.keyboard.press('Enter');
    // Focus moves to the new page's heading, so the next Tab starts from the page, not the old link.
    await page.waitForFunction((text) => document.activeElement?.tagName === 'H1' && document.activeElement.textContent?.includes(text), heading)
      .catch(() => { throw new Error(`focus is not on the heading of ${link}`); });
    const keys = await rawKeysShown(page);
    if (keys.length > 0) throw new Error(`${link} shows catalog keys instead of text: ${keys.join(', ')}`);
    await onPage?.(link);
  }
}
