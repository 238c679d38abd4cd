// The one progress reporter (lib/progress/): throttling, the final line, counted phases with rate and ETA,
// messages, the terminal's rewritten line and the log's separate lines, and the duration format.
import assert from "node:assert/strict";
import { formatDuration } from "../../lib/progress/duration.ts";
import { countProgressText } from "../../lib/progress/count_text.ts";
import { LineSink } from "../../lib/progress/line_sink.ts";
import { ProgressReporter } from "../../lib/progress/reporter.ts";
import { TtySink } from "../../lib/progress/terminal_sink.ts";

Deno.test("formatDuration: one decimal under 10 s, whole seconds under a minute, then minutes; ? when unknown", () => {
  assert.equal(formatDuration(4.5), "4.5 s");
  assert.equal(formatDuration(7), "7.0 s");
  assert.equal(formatDuration(12), "12 s");
  assert.equal(formatDuration(59.4), "59 s");
  assert.equal(formatDuration(9.97), "10 s"); // never "10.0 s"
  assert.equal(formatDuration(59.6), "1 min 0 s"); // rounded before splitting: never "60 s"
  assert.equal(formatDuration(119.6), "2 min 0 s"); // never "1 min 60 s"
  assert.equal(formatDuration(95), "1 min 35 s");
  assert.equal(formatDuration(3725), "62 min 5 s");
  assert.equal(formatDuration(undefined), "?");
  assert.equal(formatDuration(NaN), "?");
  assert.equal(formatDuration(Infinity), "?");
});

Deno.test("countProgressText: done/total, percentage, rate and ETA; the time taken once done", () => {
  assert.equal(
    countProgressText({ phase: "embedding", done: 120, total: 400, unit: "sentences", elapsedSeconds: 3 }),
    "embedding: 120/400 sentences (30%) 40.0 sentences/s ETA 7.0 s",
  );
  assert.equal(
    countProgressText({ phase: "vendi", done: 12, total: 12, unit: "cells", elapsedSeconds: 95 }),
    "vendi: 12/12 cells (100%) 0.1 cells/s in 1 min 35 s",
  );
  assert.equal(
    countProgressText({ phase: "x", done: 0, total: 5, unit: "cells", elapsedSeconds: 0 }),
    "x: 0/5 cells (0%) 0.0 cells/s",
  );
});

Deno.test("reporter: updates throttled, the final text always shown once, later updates ignored", async () => {
  const lines: string[] = [];
  let now = 0;
  const p = new ProgressReporter(new LineSink((l) => lines.push(l), 1000), { label: "job", now: () => now });
  p.update("a");
  now = 500;
  p.update("b"); // throttled
  now = 1000;
  p.update("c");
  now = 1001;
  await p.done("d"); // never throttled
  p.update("e");
  await p.done("f");
  assert.deepEqual(lines, ["job: a", "job: c", "job: d"]);
  assert.deepEqual(p.history, lines);
  p.message("note");
  assert.deepEqual(lines.at(-1), "job: note", "messages are labelled and never throttled");
});

Deno.test("reporter: counted phases, each a line of its own that ends when done reaches total", () => {
  const out: string[] = [];
  let now = 0;
  const p = new ProgressReporter(new TtySink((t) => out.push(t)), { now: () => now });
  p.count("embedding", 0, 4, "sentences");
  now = 100;
  p.count("embedding", 1, 4, "sentences"); // throttled (200 ms on a terminal)
  now = 1000;
  p.count("embedding", 2, 4, "sentences");
  now = 1050;
  p.count("cosine", 1, 2); // a new phase: the unfinished line stays, the next starts below
  now = 2050;
  p.count("cosine", 2, 2); // done: shown at once, ends with a newline
  p.count("cosine", 1, 2); // the same phase again is a new line
  assert.deepEqual(out, [
    "\r\x1b[2Kembedding: 0/4 sentences (0%) 0.0 sentences/s",
    "\r\x1b[2Kembedding: 2/4 sentences (50%) 2.0 sentences/s ETA 1.0 s",
    "\n",
    "\r\x1b[2Kcosine: 1/2 cells (50%) 0.0 cells/s",
    "\r\x1b[2Kcosine: 2/2 cells (100%) 2.0 cells/s in 1.0 s\n",
    "\r\x1b[2Kcosine: 1/2 cells (50%) 0.0 cells/s",
  ]);
});

Deno.test("terminal: a message is printed above the progress line, which is drawn again; close keeps the line", () => {
  const out: string[] = [];
  const p = new ProgressReporter(new TtySink((t) => out.push(t)), { label: "score", now: () => 0 });
  p.message("loading"); // no progress line yet
  p.update("1/4 documents");
  p.message("checkpoint saved");
  p.close();
  p.close(); // once only
  assert.deepEqual(out, [
    "\r\x1b[2Kscore: loading\n",
    "\r\x1b[2Kscore: 1/4 documents",
    "\r\x1b[2Kscore: checkpoint saved\nscore: 1/4 documents",
    "\n",
  ]);
});
