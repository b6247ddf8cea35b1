// Renders a Vega-Lite specification to an SVG string at build time, in Node, without a browser:
// Vega-Lite compiles it to Vega, and Vega's headless view (renderer 'none') writes the SVG. Each
// data-bearing mark names its layer (`name` in the spec), which Vega keeps as a class on the mark's
// group (`<g class="mark-symbol role-mark items_marks">`), and each item's `description` becomes its
// aria-label: the hooks by which a reader's tools and the tests find one mark per compared item.
// Knows nothing about comparisons.
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** Font stack shared by the page and the plots, so text measures the same in both. */
export const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

/** The plots' common configuration: no interactivity, no external resources, a quiet look. */
const CONFIG = {
  font: FONT,
  background: 'white',
  view: { stroke: '#ccc' },
  axis: { labelFontSize: 10, titleFontSize: 11, gridColor: '#eee' },
  legend: { labelFontSize: 10, titleFontSize: 11 },
};

const quiet = {
  level() {
    return quiet;
  },
  error(...args: unknown[]): never {
    throw new Error(`Vega-Lite: ${args.join(' ')}`);
  },
  warn: () => quiet,
  info: () => quiet,
  debug: () => quiet,
} as unknown as NonNullable<Parameters<typeof compile>[1]>['logger'];

/** The SVG of a Vega-Lite specification (every plot of the report goes through here). */
export async function renderSvg(spec: Record<string, unknown>): Promise<string> {
  const full = { ...spec, config: { ...CONFIG, ...((spec.config as object | undefined) ?? {}) } } as TopLevelSpec;
  // Vega-Lite's warnings would go to the terminal, which a stage never writes to: kept as a failure
  // of the plot instead when they are errors, dropped when they are notes on defaults.
  const compiled = compile(full, { logger: quiet }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    // Vega's SVG carries its own width and height and xmlns: it serves inline and as a file alike.
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
