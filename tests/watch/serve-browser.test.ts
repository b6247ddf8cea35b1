// The live page in Debian's Chromium, as a reader sees it: it waits for the report, shows it, and
// after an edit of the port's source shows the new content within the cycle's time plus 1 s. The
// cycle's end is taken from the watch output as it arrives; the page's change from the browser's
// load event of the new document. With JavaScript off the report still reads, and nothing is asked
// of the server but the page.
import { afterEach, describe, expect, it } from 'vitest';
import { browserSkipReason, launchBrowser, type BrowserSession } from '../helpers/browser.js';
import { CYCLE_DONE, WatchProcess } from './harness.js';
import { pageProject, servingUrl } from './serve-harness.js';

const skip = browserSkipReason();
if (skip && process.env.CI) throw new Error(`browser tests cannot be skipped in CI: ${skip}`);

let w: WatchProcess | undefined;
let browser: BrowserSession | undefined;
afterEach(async () => {
  await browser?.close();
  browser = undefined;
  w?.kill();
  w = undefined;
});

/** When (test clock) the end of cycle n was first seen in the watch output, once it has been. */
function cycleEndClock(watch: WatchProcess, n: number): () => number | undefined {
  let at: number | undefined;
  const check = () => {
    if (at === undefined && [...watch.output.matchAll(CYCLE_DONE)].some((m) => Number(m[1]) === n)) at = Date.now();
  };
  // Registered after the harness's own listener, so the output already holds this chunk.
  watch.child.stdout!.on('data', check);
  watch.child.stderr!.on('data', check);
  return () => at;
}

describe.skipIf(skip !== undefined)('evidence watch --serve in a browser', () => {
  it('waits for the report, shows it, then shows the edited port\'s new content within the cycle time plus 1 s, without console errors', async () => {
    const { project: p, openGate } = pageProject({ gated: true });
    w = new WatchProcess(p, ['--serve', '--port', '0']);
    const url = await servingUrl(w);
    browser = await launchBrowser();
    const { page, errors, requests } = await browser.open(url);
    expect(await page.textContent('#waiting')).toContain('has not written out/page.html yet');

    openGate();
    await page.waitForSelector('#v', { timeout: 45_000 });
    expect(await page.textContent('#v')).toBe('one');
    expect(page.url()).toBe(`${url}out/page.html`);
    await w.waitForCycle(1);

    const loads: number[] = [];
    page.on('load', () => loads.push(Date.now()));
    const cycle2End = cycleEndClock(w, 2);
    p.write('src/port.txt', 'two\n');
    await w.waitForCycle(2);
    await page.waitForFunction(() => document.querySelector('#v')?.textContent === 'two', null, { timeout: 45_000 });
    await page.waitForLoadState('load');
    expect(loads).toHaveLength(1); // one reload for one changed report
    const line = w.cycleLine(2)!;
    const cycleMs = Number(/ in ([\d.]+) s:/.exec(line)![1]) * 1000;
    const lateByMs = loads[0]! - cycle2End()!;
    if (process.env.EVIDENCE_PRINT_TIMING) console.log(`page updated ${lateByMs} ms after the end of a ${cycleMs} ms cycle`);
    // The page changed no later than 1 s after the cycle ended (it may even show before the
    // cycle's line reaches this process: the event is sent before the line is printed).
    expect(lateByMs, `page updated ${lateByMs} ms after the end of a ${cycleMs} ms cycle`).toBeLessThanOrEqual(1000);

    // A cycle that leaves the report alone does not reload it: the next load is the next change's.
    p.write('src/other.txt', 'b\n');
    await w.waitForCycle(3);
    expect(w.cycleLine(3)).toMatch(/ran other; 1 up to date/);
    p.write('src/port.txt', 'four\n');
    await w.waitForCycle(4);
    await page.waitForFunction(() => document.querySelector('#v')?.textContent === 'four', null, { timeout: 45_000 });
    await page.waitForLoadState('load');
    expect(loads).toHaveLength(2);

    // A failing edit: the page keeps the last report and says it is out of date.
    p.write('src/port.txt', 'fail\n');
    await w.waitForCycle(5);
    await page.waitForSelector('[data-evidence-stale]', { timeout: 45_000 });
    expect(await page.textContent('[data-evidence-stale]')).toContain('stage page failed in cycle 5');
    expect(await page.textContent('#v')).toBe('four');

    expect(errors).toEqual([]);
    const origin = new URL(url).origin;
    expect(requests.filter((r) => !r.startsWith(origin + '/'))).toEqual([]);
    expect(new Set(requests.map((r) => new URL(r).pathname))).toEqual(new Set(['/out/page.html', '/events'])); // and '/' itself, which the helper leaves out

    // JavaScript off: the report reads as it is, and the page asks for nothing more.
    const off = await browser.open(`${url}out/page.html`, { javaScript: false });
    expect(await off.page.textContent('#v')).toBe('four');
    expect(off.requests).toEqual([]);
    expect(off.errors).toEqual([]);

    await browser.close();
    browser = undefined;
    expect(await w.stop()).toBe(130);
  }, 180_000);
});
