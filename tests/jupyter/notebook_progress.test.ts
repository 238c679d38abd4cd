// Live progress for notebooks (lib/jupyter/notebook_progress.ts): Jupyter display + in-place updates with a
// fake kernel API, throttling, the console fallback. No Jupyter needed.
import assert from "node:assert/strict";
import {
  type JupyterProgressApi,
  JupyterSink,
  kernelJupyter,
  notebookProgress,
} from "../../lib/jupyter/notebook_progress.ts";
import type { ProgressReporter } from "../../lib/progress/reporter.ts";

type Call =
  | { kind: "display"; obj: Record<string, string>; options: { raw?: boolean; display_id?: string } }
  | { kind: "broadcast"; msgType: string; content: Record<string, unknown> };

function fakeJupyter(fail = false): { api: JupyterProgressApi; calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    api: {
      display(obj, options = {}) {
        calls.push({ kind: "display", obj: obj as Record<string, string>, options });
        return fail ? Promise.reject(new Error("kernel gone")) : Promise.resolve();
      },
      broadcast(msgType, content) {
        calls.push({ kind: "broadcast", msgType, content });
        return Promise.resolve();
      },
    },
  };
}

/** The display id the reporter's Jupyter sink uses now. */
function displayIdOf(p: ProgressReporter): string {
  assert.ok(p.sink instanceof JupyterSink);
  return p.sink.displayId;
}

Deno.test("progress display: first update displays with a display_id, later ones update it in place", async () => {
  const { api, calls } = fakeJupyter();
  let now = 0;
  const p = notebookProgress({
    label: "sweep m creative",
    jupyter: api,
    minIntervalMs: 100,
    now: () => now,
  });
  assert.ok(p.sink instanceof JupyterSink);
  p.update("1/4 cells");
  now = 50;
  p.update("2/4 cells"); // throttled
  now = 200;
  p.update("3/4 cells");
  await p.done("reused cached result");
  assert.equal(calls.length, 3);
  const [first, second, last] = calls;
  assert.equal(first.kind, "display");
  if (first.kind === "display") {
    assert.deepEqual(first.options, { raw: true, display_id: displayIdOf(p) });
    assert.equal(first.obj["text/plain"], "sweep m creative: 1/4 cells");
    assert.match(first.obj["text/html"], /<pre class="progress"/);
  }
  for (const c of [second, last]) {
    assert.equal(c.kind, "broadcast");
    if (c.kind === "broadcast") {
      assert.equal(c.msgType, "update_display_data");
      assert.deepEqual(c.content.transient, { display_id: displayIdOf(p) });
      assert.deepEqual(c.content.metadata, {});
    }
  }
  if (last.kind === "broadcast") {
    const data = last.content.data as Record<string, string>;
    assert.equal(data["text/plain"], "sweep m creative: reused cached result");
    assert.match(data["text/html"], /data-done="true"/);
  }
  assert.deepEqual(p.history, [
    "sweep m creative: 1/4 cells",
    "sweep m creative: 3/4 cells",
    "sweep m creative: reused cached result",
  ]);
  p.update("after done"); // ignored
  await p.done("again"); // no second final message
  assert.equal(calls.length, 3);
});

Deno.test("progress display: done alone displays once; HTML is escaped; ids are unique", async () => {
  const { api, calls } = fakeJupyter();
  const p = notebookProgress({ jupyter: api });
  const q = notebookProgress({ jupyter: api });
  assert.notEqual(displayIdOf(p), displayIdOf(q));
  await p.done("<b>&</b>");
  assert.equal(calls.length, 1);
  assert.equal(calls[0].kind, "display");
  if (calls[0].kind === "display") assert.match(calls[0].obj["text/html"], /&lt;b&gt;&amp;&lt;\/b&gt;/);
});

Deno.test("progress display: a kernel error surfaces from done", async () => {
  const { api } = fakeJupyter(true);
  const p = notebookProgress({ jupyter: api });
  p.update("x");
  await assert.rejects(() => p.done("y"), /kernel gone/);
});

Deno.test("progress display: console fallback without Jupyter, throttled, done always logged", async () => {
  const lines: string[] = [];
  let now = 0;
  const p = notebookProgress({
    label: "score m",
    jupyter: null,
    log: (l) => lines.push(l),
    now: () => now,
  });
  assert.ok(!(p.sink instanceof JupyterSink));
  p.update("a");
  now = 10;
  p.update("b");
  now = 400;
  p.update("c");
  await p.done("d");
  assert.deepEqual(lines, ["score m: a", "score m: c", "score m: d"]);
});

Deno.test("progress display: outside the kernel there is no Deno.jupyter", () => {
  assert.equal(kernelJupyter(), undefined);
  assert.ok(!(notebookProgress({ log: () => {} }).sink instanceof JupyterSink));
});
