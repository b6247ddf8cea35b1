// What the terminal says for a shard run and for the cache: bound applied as a run ends.
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/run/events.js';
import { terminalReporter } from '../../src/report/terminal.js';
import { styleFor } from '../../src/report/style.js';

function render(events: RunEvent[]): string {
  const chunks: string[] = [];
  const out = { write: (s: string) => (chunks.push(s), true) } as unknown as NodeJS.WritableStream;
  const r = terminalReporter({ out, style: styleFor({ isTTY: false } as NodeJS.WriteStream, {}), ci: false, verbose: false, quiet: false });
  for (const e of events) r(e);
  r.close();
  return chunks.join('');
}

const tally = (objects: number, records: number, bytes: number) => ({ objects, records, bytes });

describe('terminal lines for shards and the cache bound', () => {
  it('names the shard, its items and every stage it leaves to a full run', () => {
    const text = render([
      { type: 'shard-selected', time: 0, shard: 2, of: 3, items: ['config=b', 'config=e'], allItems: 5, instances: 6, left: [{ stage: 'sweep', why: 'it needs every instance; a run without --shard assembles it' }] },
    ]);
    expect(text).toContain('shard 2/3: 2 of 5 item(s) (config=b, config=e), 6 stage instance(s)');
    expect(text).toContain('- sweep not run in a shard: it needs every instance; a run without --shard assembles it');
  });

  it('says what the bound freed, says nothing when it freed nothing, and warns when the lock alone is too big', () => {
    expect(render([{ type: 'cache-collected', time: 0, freed: tally(3, 2, 20480), kept: tally(4, 2, 1024), overBudget: false, maxSize: 4096 }])).toContain('cache: freed 3 object(s) and 2 run record(s), 20 KiB (pipeline.yaml cache:); 1.0 KiB kept');
    expect(render([{ type: 'cache-collected', time: 0, freed: tally(0, 0, 0), kept: tally(4, 2, 1024), overBudget: false }])).not.toContain('cache:');
    expect(render([{ type: 'cache-collected', time: 0, freed: tally(0, 0, 0), kept: tally(4, 2, 8192), overBudget: true, maxSize: 1024 }])).toMatch(/still above max_size 1\.0 KiB: what evidence\.lock names is never removed/);
  });
});
