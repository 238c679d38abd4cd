/**
 * The study's HTML report: what was compared, the headline numbers per model, the collapse verdict of every
 * fine-tune, the figures (inline SVG) and links to the executed notebooks. One self-contained file.
 * @module
 */
import { basename, dirname, relative } from "node:path";
import { escapeMarkup } from "../figures/escape.ts";
import type { StudyConfig } from "./config.ts";
import type { ScoreHeadline } from "./steps.ts";
import { COLLAPSE_RULE, type CollapseVerdict, formatCheckValue } from "./verdict.ts";
import { formatNumber, formatPercent } from "../numeric/number_format.ts";

/** What the report shows. */
export interface ReportInput {
  /** The study. */
  study: StudyConfig;
  /** Score headline per model name. */
  scores: Record<string, ScoreHeadline>;
  /** Verdicts of the fine-tunes. */
  verdicts: CollapseVerdict[];
  /** SVG files to inline (absolute paths). */
  figures: string[];
  /** Executed notebooks' HTML files (absolute paths), with whether each ran cleanly. */
  notebooks: { name: string; html?: string; ok: boolean; note?: string }[];
  /** One line per step: what was computed or reused. */
  steps: string[];
  /** Toolkit version and runtime. */
  provenance: Record<string, string>;
}

/** The report as one HTML document; links are relative to `reportPath`'s folder. */
export async function renderReport(input: ReportInput, reportPath: string): Promise<string> {
  const dir = dirname(reportPath);
  const e = escapeMarkup;
  const rows = input.study.models.map((m) => {
    const s = input.scores[m.name];
    const cells = s
      ? [
        s.perplexity,
        s.mean_entropy,
        s.mean_confidence,
        s.effective_vocab,
        s.vocab_mass_fraction["0.9"] ?? null,
        s.kl_from_base,
        s.argmax_changed,
        s.tokens,
      ].map((x) => formatNumber(x)) // as the notebooks' headline table
      : new Array(8).fill("–");
    return `<tr><td>${e(m.name)}</td><td>${e(m.role)}</td>${cells.map((c) => `<td>${c}</td>`).join("")}</tr>`;
  }).join("\n");
  const verdicts = input.verdicts.map((v) => {
    const checks = v.corpus.map((c) =>
      `<li>${e(c.name)}: ${formatCheckValue(c.base)} → ${formatCheckValue(c.tuned)} ${
        c.collapsed === null ? "(undefined)" : c.collapsed ? "✔ collapsed direction" : "✘"
      }</li>`
    ).join("");
    const share = v.lessDiverseShare === null
      ? "no comparable diversity points"
      : `less diverse than ${e(v.base)} on ${formatPercent(v.lessDiverseShare)} of ${v.diversityPoints} ` +
        "(pack, metric, word limit, temperature) points";
    return `<section class="verdict ${v.collapsed ? "yes" : "no"}"><h3>${e(v.model)} vs ${e(v.base)}: ${
      e(v.headline)
    }</h3><ul>${checks}<li>${share}</li></ul></section>`;
  }).join("\n");
  const figures: string[] = [];
  for (const f of input.figures) {
    const svg = await Deno.readTextFile(f);
    figures.push(
      `<figure>${svg}<figcaption>${e(basename(f, ".svg"))} (<a href="${
        e(relative(dir, f))
      }">SVG</a>, <a href="${e(relative(dir, f.replace(/\.svg$/, ".png")))}">PNG</a>)</figcaption></figure>`,
    );
  }
  const notebooks = input.notebooks.map((n) =>
    `<li>${n.html ? `<a href="${e(relative(dir, n.html))}">${e(n.name)}</a>` : e(n.name)} — ${
      n.ok ? "executed" : "not executed"
    }${n.note ? `: ${e(n.note)}` : ""}</li>`
  ).join("\n");
  const steps = input.steps.map((s) => `<li>${e(s)}</li>`).join("\n");
  const prov = Object.entries(input.provenance).map(([k, v]) => `<li>${e(k)}: ${e(v)}</li>`).join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Mode collapse report — ${e(input.study.name)}</title>
<style>
body { font-family: "DejaVu Sans", sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
td:first-child, td:nth-child(2) { text-align: left; }
.verdict.yes h3 { color: #b00; } .verdict.no h3 { color: #444; }
figure { margin: 1.5em 0; } figure svg { max-width: 100%; height: auto; }
</style></head><body>
<h1>Mode collapse report — ${e(input.study.name)}</h1>
<p>${e(input.study.description)}</p>
<h2>Next-token statistics on the corpus</h2>
<p>Corpus: ${e(input.study.corpus.path)} (${
    input.study.corpus.maxDocs ?? "all"
  } documents, windows of ${input.study.corpus.maxSeqLen} tokens).</p>
<table><thead><tr><th>model</th><th>role</th><th>perplexity</th><th>mean entropy (nats)</th><th>mean confidence</th>
<th>effective vocabulary</th><th>vocab fraction for 90% mass</th><th>KL from base (nats)</th><th>argmax changed</th><th>tokens</th></tr></thead>
<tbody>
${rows}
</tbody></table>
<h2>Verdict</h2>
${
    verdicts
      ? `<p class="rule">${e(COLLAPSE_RULE.text)}</p>\n${verdicts}`
      : "<p>No model in this study has a base to compare with.</p>"
  }
<h2>Notebooks</h2>
<ul>${notebooks || "<li>none run</li>"}</ul>
<h2>Figures</h2>
${figures.join("\n") || "<p>No figures (the notebooks were not executed).</p>"}
<h2>What was computed</h2>
<ul>${steps}</ul>
<h2>Provenance</h2>
<ul>${prov}</ul>
</body></html>
`;
}
