import { parseTraceFile } from '/work/main/stages/trace/parse.js';
import { compareTraces } from '/work/main/stages/trace/compare.js';
const dir = '/work/main/tests/fixtures/real-pairs/';
import { test } from "vitest";
test("smoke", async () => {
for (const [pair, opts] of [
  ['per-phi-k-frac', { matchBy: 'phi_tic' }],
  ['pix0-custom-convention', {}],
  ['scattering-units', {}],
  ['source-weights', { ignore: ['TRACE_PY_TRICUBIC*', 'spindle_*'], aliases: {F_cell_interpolated: 'F_cell'} }],
] as const) {
  const r = await parseTraceFile(dir + pair + '/ref_c.log');
  const p = await parseTraceFile(dir + pair + '/port_py.log');
  const c = compareTraces(r, p, opts as any);
  console.log('=====', pair, c.reference.family, c.port.family, JSON.stringify(c.totals), c.verdict);
  console.log('first', JSON.stringify(c.firstDivergence));
  for (const it of c.items) if (it.status !== 'MATCH') console.log(it.status.padEnd(9), it.name, JSON.stringify(it.reference), JSON.stringify(it.port), it.abs, it.rel, it.worst, (it.diagnoses??[]).map(d=>d.kind+':'+d.message).join(' | '));
}
});
