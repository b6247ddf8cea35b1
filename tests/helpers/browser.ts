// Debian's Chromium driven by playwright-core, for the tests that must see a page as a reader does.
// The flags keep Chromium from reaching for Google's hosts at start-up: this machine's network is
// closed, and those attempts would show up as failed requests the tests count. playwright-core
// gives each launch a fresh profile of its own.
import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';

const CANDIDATES = [process.env.EVIDENCE_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** The Chromium to drive, or undefined when none is installed. */
export function chromiumPath(): string | undefined {
  return CANDIDATES.find((p): p is string => typeof p === 'string' && p !== '' && existsSync(p));
}

/** Why browser tests are skipped here, or undefined when they can run. In CI they must run. */
export function browserSkipReason(): string | undefined {
  if (chromiumPath()) return undefined;
  return 'no Chromium (apt-get install chromium; .ci/run installs it)';
}

export interface OpenedPage {
  page: Page;
  /** Console messages of type error, and uncaught page errors. */
  errors: string[];
  /** Every request the page made that was not for the page itself. */
  requests: string[];
}

export interface BrowserSession {
  browser: Browser;
  /** Opens a URL (file:// or http://127.0.0.1) and records errors and requests from the start. */
  open(url: string, opts?: { javaScript?: boolean; viewport?: { width: number; height: number } }): Promise<OpenedPage>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<BrowserSession> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error(browserSkipReason());
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    browser,
    async open(url, opts = {}) {
      const context = await browser.newContext({ javaScriptEnabled: opts.javaScript ?? true, viewport: opts.viewport ?? { width: 1280, height: 900 } });
      const page = await context.newPage();
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('request', (r) => {
        if (r.url() !== url) requests.push(r.url());
      });
      await page.goto(url, { waitUntil: 'load' });
      return { page, errors, requests };
    },
    async close() {
      await browser.close();
    },
  };
}
