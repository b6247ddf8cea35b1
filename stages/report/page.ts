// The report's HTML shell: one self-contained page (inline CSS, inline SVG, one small inline script
// that only filters the table), readable with JavaScript off, requesting nothing. Also turns the
// summary's Markdown lines (the findings text summary.md shows, reused word for word) into HTML: the
// few constructs those lines use, `code`, **bold**, headings, numbered items with indented
// continuation lines, and <details> blocks. Knows nothing about comparisons.

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** 120000 → "120,000": toLocaleString would load ICU's locale data on its first call (~0.1 s). */
export function thousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** One line of the summary's Markdown as inline HTML: `code` and **bold**. */
export function inlineMarkdown(line: string): string {
  return escapeHtml(line)
    .replace(/`([^`]*)`/g, '<code>$1</code>')
    .replace(/\*\*(.+?)\*\*/g, '<strong>$1</strong>');
}

/** Blocks of the summary's Markdown (headings, paragraphs, numbered items, `- ` bullets) as HTML. */
export function markdownBlocks(lines: string[]): string {
  const out: string[] = [];
  let list: 'ol' | 'ul' | undefined;
  let item: string[] | undefined;
  const closeItem = () => {
    if (item) out.push(`<li>${item.join('<br>')}</li>`);
    item = undefined;
  };
  const closeList = () => {
    closeItem();
    if (list) out.push(`</${list}>`);
    list = undefined;
  };
  for (const line of lines) {
    const heading = /^(#{1,4}) (.*)$/.exec(line);
    const numbered = /^\d+\. (.*)$/.exec(line);
    const bullet = /^- (.*)$/.exec(line);
    if (heading) {
      closeList();
      const level = Math.min(6, heading[1]!.length + 1);
      out.push(`<h${level}>${inlineMarkdown(heading[2]!)}</h${level}>`);
    } else if (numbered || bullet) {
      const kind = numbered ? 'ol' : 'ul';
      if (list !== kind) {
        closeList();
        out.push(`<${kind}>`);
        list = kind;
      }
      closeItem();
      item = [inlineMarkdown((numbered ?? bullet)![1]!)];
    } else if (/^\s+\S/.test(line) && item) item.push(inlineMarkdown(line.trim()));
    else if (line.trim() === '') closeItem();
    else {
      closeList();
      out.push(`<p>${inlineMarkdown(line)}</p>`);
    }
  }
  closeList();
  return out.join('\n');
}

const CSS = `
:root { color-scheme: light; --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --bad: #d55e00; --ok: #1a7f37; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); margin: 0 auto; padding: 24px 32px 64px; max-width: 1200px; }
h1 { font-size: 1.6em; margin: 0 0 .3em; }
h2 { font-size: 1.25em; border-bottom: 1px solid var(--line); padding-bottom: .2em; margin-top: 1.8em; }
h3 { font-size: 1.05em; }
code { font: 0.88em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #f3f4f6; padding: 0 .25em; border-radius: 3px; }
.meta { color: var(--muted); font-size: .9em; }
.verdict { font-size: 1.1em; padding: .6em .9em; border-radius: 6px; border: 1px solid var(--line); background: #f6f8fa; }
.verdict.v-MATCH { border-color: #9fd6ae; background: #effaf1; }
.verdict.v-MINOR { border-color: #f0c36d; background: #fff8e6; }
.verdict.v-DIVERGENT, .verdict.v-CRITICAL { border-color: #f3a67a; background: #fff1e9; }
.findings ol li { margin-bottom: .8em; }
.plot { overflow-x: auto; margin: .5em 0; }
.plot svg { display: block; max-width: none; }
.note { color: var(--muted); font-size: .9em; }
.multiples { display: flex; flex-wrap: wrap; gap: 12px; }
table { border-collapse: collapse; font-size: .85em; width: 100%; }
/* A fixed layout: the browser sizes columns from the first row instead of measuring thousands. */
#items { table-layout: fixed; }
#items th:nth-child(1) { width: 4.5em; } #items th:nth-child(3) { width: 9em; } #items th:nth-child(6) { width: 6.5em; }
th, td { border: 1px solid var(--line); padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; position: sticky; top: 0; }
td.num { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; overflow-wrap: anywhere; }
.scroll { overflow-x: auto; }
/* Below the fold: laid out when scrolled to, so a long table does not hold up the first view. */
.deferred { content-visibility: auto; contain-intrinsic-size: auto 2000px; }
tr.s-DIVERGENT td.status, tr.s-CRITICAL td.status { color: var(--bad); font-weight: 600; }
tr.s-MINOR td.status { color: #9a6700; font-weight: 600; }
tr.s-MISSING td.status { color: #6f42c1; }
.filter { display: none; gap: 8px; margin: .5em 0; align-items: center; }
.js .filter { display: flex; }
.filter input { font: inherit; padding: 3px 6px; min-width: 18em; }
`;

/** The table filter: a key substring and a status; runs only when JavaScript is on, and needs nothing else. */
const FILTER_SCRIPT = `
document.documentElement.classList.add('js');
(function () {
  var box = document.getElementById('filter-key'), status = document.getElementById('filter-status'), count = document.getElementById('filter-count');
  if (!box || !status) return;
  var rows = Array.prototype.slice.call(document.querySelectorAll('#items tbody tr'));
  function apply() {
    var q = box.value.toLowerCase(), s = status.value, shown = 0;
    rows.forEach(function (r) {
      var ok = (!q || r.getAttribute('data-key').toLowerCase().indexOf(q) >= 0) && (!s || r.getAttribute('data-status') === s);
      if (r.hidden === ok) r.hidden = !ok;
      if (ok) shown++;
    });
    count.textContent = shown + ' of ' + rows.length + ' rows';
  }
  box.addEventListener('input', apply);
  status.addEventListener('change', apply);
  // Every row shows at first: touching thousands of rows at load would lay out the whole table.
  count.textContent = rows.length + ' rows';
})();
`;

/** The whole page: a title and the sections, in order. */
export function page(title: string, sections: string[], withFilter: boolean): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    // Nothing on this page may be fetched: no image, font, script or style from anywhere.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">`,
    `<title>${escapeHtml(title)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    `<h1>${escapeHtml(title)}</h1>`,
    ...sections,
    withFilter ? `<script>${FILTER_SCRIPT}</script>` : '',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** A plot in its figure, with a caption (SVG inline: no file beside the page). */
export function figure(id: string, svg: string, caption: string): string {
  return `<figure class="plot" id="${id}">\n${svg}\n<figcaption class="note">${caption}</figcaption>\n</figure>`;
}
