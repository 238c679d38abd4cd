// lib/views/show.ts and lib/views/skipped_figure.ts: a figure shown and saved in one call; a skipped-figure
// placeholder shown but not saved.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { makeFigure } from "../../lib/figures/figure.ts";
import { show } from "../../lib/views/show.ts";
import { skippedFigure } from "../../lib/views/skipped_figure.ts";

Deno.test("show: saves SVG and PNG and returns the figure; a skippedFigure is returned, not saved", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const fig = skippedFigure("no files <here>");
    assert.match(fig.svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.match(fig.svg, /no files &lt;here&gt;/);
    assert.equal(await show(fig, "skipped", dir), fig);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
    const drawn = makeFigure(
      '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20"/></svg>',
      { n: 1 },
    );
    assert.equal(await show(drawn, "drawn", dir), drawn);
    assert.ok(existsSync(join(dir, "drawn.svg")) && existsSync(join(dir, "drawn.png")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
