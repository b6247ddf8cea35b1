// The HTML of `evidence watch --serve`: the script injected into a served page (at serve time; the
// file on disk is never changed), the index when several stages write pages, and the page that
// waits for a report not written yet. The script reloads only when the signature of what it shows
// changed, so a cycle that left the report alone does not flicker it. With JavaScript off the
// report reads as it is; only the waiting page refreshes itself (a meta refresh inside <noscript>).
// Knows nothing of HTTP or of stage kinds: the server hands in pages and signatures.

export interface LivePage {
  /** The stage that writes it. */
  stage: string;
  /** Project-relative path: also its URL path, so that its relative links lead to sibling outs. */
  path: string;
}

/** What a served document shows: `key` is '/' or a page's path; `sig` changes when its content may have. */
export interface LiveState {
  key: string;
  sig: string;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function pageUrl(path: string): string {
  return '/' + path.split('/').map(encodeURIComponent).join('/');
}

/**
 * The client: the server sends the signatures of every served document on connect and after each
 * cycle; the one sent on connect covers a cycle that ended between serving the page and the
 * stream opening. JSON inside <script> with '<' escaped cannot close the element.
 */
function liveScript(state: LiveState): string {
  const json = JSON.stringify(state).replace(/</g, '\\u003c');
  return `<script data-evidence-live>(function(){var s=${json};if(!window.EventSource)return;var es=new EventSource('/events');function check(e){var d;try{d=JSON.parse(e.data)}catch(x){return}if(d.sigs&&d.sigs[s.key]!==s.sig){es.close();location.reload()}}es.addEventListener('state',check);es.addEventListener('cycle',check);window.addEventListener('pagehide',function(){es.close()})})();</script>`;
}

/**
 * A line over the page saying it is older than the last cycle (its stage failed, or did not run);
 * plain HTML, so that it shows with JavaScript off too.
 */
function staleBanner(why: string): string {
  return `<div data-evidence-stale role="status" style="position:fixed;top:0;left:0;right:0;z-index:2147483647;margin:0;padding:.4em 1em;background:#fff3cd;color:#4d3800;border-bottom:1px solid #c9a227;font:14px/1.4 system-ui,sans-serif">Out of date: ${escapeHtml(why)}. This is the last report it wrote.</div>`;
}

const CSP_META = /(<meta\s[^>]*http-equiv\s*=\s*["']?content-security-policy["']?[^>]*\scontent\s*=\s*)(?:"([^"]*)"|'([^']*)')/gi;

/**
 * A page's own Content-Security-Policy (the report kind's allows no fetch at all) would block the
 * live script's /events stream: the served copy also allows connecting to this server, unless the
 * page already says where it may connect.
 */
function allowEvents(html: string): string {
  return html.replace(CSP_META, (whole, head: string, double: string | undefined, single: string | undefined) => {
    const policy = double ?? single ?? '';
    if (/(^|;)\s*connect-src\b/i.test(policy)) return whole;
    const allowed = `${policy.replace(/;?\s*$/, '')}; connect-src 'self'`;
    return double !== undefined ? `${head}"${allowed}"` : `${head}"${allowed.replace(/"/g, '&quot;')}"`;
  });
}

/** The page's HTML with the live script (and the stale line, if any) before its last </body>, or at its end. */
export function injectLive(html: string, state: LiveState, stale?: string): string {
  const added = (stale ? staleBanner(stale) : '') + liveScript(state);
  const page = allowEvents(html);
  const at = page.toLowerCase().lastIndexOf('</body>');
  return at < 0 ? page + added : page.slice(0, at) + added + page.slice(at);
}

function shell(title: string, body: string, state: LiveState, waiting: boolean): string {
  const refresh = waiting ? '<noscript><meta http-equiv="refresh" content="2"></noscript>' : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>${refresh}
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem;color:#222}code{background:#f2f2f2;padding:0 .2em}li{margin:.3em 0}.missing{color:#777}</style>
</head><body>
${body}
${liveScript(state)}</body></html>
`;
}

export function waitingPage(page: LivePage, state: LiveState, stale?: string): string {
  return shell(
    'evidence: waiting for the report',
    `<h1>No report yet</h1>
<p id="waiting">Stage <code>${escapeHtml(page.stage)}</code> has not written <code>${escapeHtml(page.path)}</code> yet. This page shows it as soon as a watch cycle produces it.</p>${stale ? `\n<p id="stale">${escapeHtml(stale[0]!.toUpperCase() + stale.slice(1))}: see the terminal.</p>` : ''}`,
    state,
    true,
  );
}

export function noPagesPage(state: LiveState): string {
  return shell(
    'evidence: no report in this pipeline',
    `<h1>No report in this pipeline</h1>
<p id="waiting">No watched stage writes a report (a <code>uses: report</code> stage, or a stage whose primary output is an <code>.html</code> file). Add one to pipeline.yaml, or name one with <code>--serve-stage</code>; this page follows pipeline.yaml as it is saved.</p>`,
    state,
    true,
  );
}

export function indexPage(pages: Array<LivePage & { exists: boolean; stale?: string }>, state: LiveState): string {
  const items = pages.map((p) => {
    const note = p.stale ? `; out of date: ${escapeHtml(p.stale)}` : '';
    return p.exists
      ? `<li><a href="${escapeHtml(pageUrl(p.path))}">${escapeHtml(p.path)}</a> <span>(${escapeHtml(p.stage)}${note})</span></li>`
      : `<li class="missing">${escapeHtml(p.path)} <span>(${escapeHtml(p.stage)}): not written yet${note}</span></li>`;
  });
  return shell('evidence: reports', `<h1>Reports</h1>\n<ul id="reports">\n${items.join('\n')}\n</ul>`, state, pages.some((p) => !p.exists));
}
