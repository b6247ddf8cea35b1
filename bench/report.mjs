// The HTML report of a large comparison: 100,000 items a side (just below the compact threshold, the
// largest full-form comparison) and 300,000 (compact), built by the report stage's own code, then
// opened in Debian's Chromium. The figures: build time, file size, and the time from navigation to
// the load event and to the first contentful paint; the baseline is the same browser opening an
// empty page in the same run. Targets: a few MB, ≤ 2 s to render.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

function lines(prefix, n, port) {
  const out = [];
  for (let i = 0; i < n; i++) {
    let v = 1 + Math.sin(i * 0.37) * 0.5;
    if (port && i >= n * 0.6 && i < n * 0.6 + 40) v *= 1e-10;
    if (port && i % 1000 === 7) v *= 1 + 3e-16; // differences within round-off, not MATCH at a tight tolerance
    out.push(`${prefix}: key_${i} ${v.toPrecision(17)}`);
  }
  return out.join('\n') + '\n';
}

async function timePage(page, url) {
  await page.goto(url, { waitUntil: 'load' });
  return page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const fcp = performance.getEntriesByName('first-contentful-paint')[0];
    return { loadMs: nav.loadEventEnd - nav.startTime, fcpMs: fcp ? fcp.startTime : NaN };
  });
}

export async function benchReport(sizes = [100_000, 300_000]) {
  const { existsSync } = await import('node:fs');
  const exe = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
  const { parseTraceText } = await import(pathToFileURL(join(ROOT, 'dist/stages/trace/parse.js')).href);
  const { compareTraces } = await import(pathToFileURL(join(ROOT, 'dist/stages/trace/compare.js')).href);
  const { comparisonReport } = await import(pathToFileURL(join(ROOT, 'dist/stages/report/comparison-page.js')).href);
  const dir = mkdtempSync(join(tmpdir(), 'evidence-bench-report-'));
  const rows = [];
  let browser;
  try {
    if (exe) {
      const { chromium } = await import('playwright-core');
      browser = await chromium.launch({ executablePath: exe, args: ['--no-sandbox', '--disable-gpu'] });
    }
    const blank = join(dir, 'blank.html');
    writeFileSync(blank, '<!doctype html><title>blank</title><p>blank</p>');
    for (const n of sizes) {
      const c = compareTraces(parseTraceText(lines('TRACE_C', n, false)), parseTraceText(lines('TRACE_PY', n, true)), { tolerance: { rel: 1e-17 } });
      const t0 = performance.now();
      const r = await comparisonReport(c);
      const buildMs = performance.now() - t0;
      const file = join(dir, `report-${n}.html`);
      writeFileSync(file, r.html);
      const row = { items: n, compact: Boolean(c.compact), buildMs, bytes: Buffer.byteLength(r.html), plotted: r.plotted };
      if (browser) {
        const times = [];
        const base = [];
        for (let k = 0; k < 3; k++) {
          const ctx = await browser.newContext();
          const page = await ctx.newPage();
          base.push(await timePage(page, pathToFileURL(blank).href));
          times.push(await timePage(page, pathToFileURL(file).href));
          await ctx.close();
        }
        const med = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
        row.loadMs = med(times.map((t) => t.loadMs));
        row.fcpMs = med(times.map((t) => t.fcpMs));
        row.blankLoadMs = med(base.map((t) => t.loadMs));
      }
      rows.push(row);
    }
  } finally {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const r of await benchReport()) console.log(JSON.stringify(r));
}
