// The browser helper itself: a page with a console error and a request to elsewhere is seen as such,
// so that a report test's "no errors, no requests" means something.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { browserSkipReason, launchBrowser } from '../helpers/browser.js';

const skip = browserSkipReason();
if (skip && process.env.CI) throw new Error(`browser tests cannot be skipped in CI: ${skip}`);

describe.skipIf(skip !== undefined)('browser helper', () => {
  it('records console errors and outgoing requests', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'evidence-browser-'));
    const file = join(dir, 'p.html');
    writeFileSync(file, '<!doctype html><p id="x">hi</p><img src="http://127.0.0.1:9/none.png"><script>console.error("boom")</script>');
    const b = await launchBrowser();
    try {
      const { page, errors, requests } = await b.open(pathToFileURL(file).href);
      expect(await page.textContent('#x')).toBe('hi');
      expect(errors.some((e) => e.includes('boom'))).toBe(true);
      expect(requests).toContain('http://127.0.0.1:9/none.png');
    } finally {
      await b.close();
    }
  }, 60_000);
});
