/**
 * The typed registry of output-diversity metrics: every key the paper computed, in its order, then this project's
 * additions. A metric is a plain function over a sample set (./sample_set.ts); its definition (./definition.ts)
 * says what it needs (embeddings, a random state) and how to read it. Adding a metric means one module exporting
 * its `definitions`, listed below.
 * @module
 */
import type { MetricDefinition, MetricDirection } from "./definition.ts";
import { definitions as compressionDefinitions } from "./defs/compression.ts";
import { definitions as cosineDefinitions } from "./defs/cosine.ts";
import { definitions as distinctDefinitions } from "./defs/distinct.ts";
import { definitions as jaccardDefinitions } from "./defs/jaccard.ts";
import { definitions as orderQDefinitions } from "./defs/order_q.ts";
import { definitions as selfBleuDefinitions } from "./defs/self_bleu.ts";
import { definitions as vendiDefinitions } from "./defs/vendi.ts";

/** The paper's 20 keys in the order of its results files. */
export const PAPER_KEY_ORDER: readonly string[] = [
  "selfBleuSmoothed",
  "average_pairwise_ncd",
  "average_pairwise_jaccard_2",
  "average_pairwise_jaccard_3",
  "average_pairwise_jaccard_4",
  "avg_compression_ratio_full",
  "avg_compression_ratio_target",
  "cosine_similarity",
  ...[2, 3, 4, 5, 6].flatMap((q) => [`order_${q}_jaccard_2`, `order_${q}_cosine`]),
  "vendi_jaccard_2",
  "vendi_cosine",
];

const ALL: readonly MetricDefinition[] = [
  ...selfBleuDefinitions,
  ...compressionDefinitions,
  ...jaccardDefinitions,
  ...cosineDefinitions,
  ...orderQDefinitions,
  ...vendiDefinitions,
  ...distinctDefinitions,
];

const BY_KEY = new Map(ALL.map((d) => [d.key, d]));
if (BY_KEY.size !== ALL.length) throw new Error("duplicate metric key in the registry");
for (const key of PAPER_KEY_ORDER) {
  if (!BY_KEY.get(key)?.inPaper) throw new Error(`paper key ${key} missing from the registry`);
}

/** Every metric: the paper's 20 in the paper's order, then the additions. */
export const METRICS: readonly MetricDefinition[] = [
  ...PAPER_KEY_ORDER.map((k) => BY_KEY.get(k)!),
  ...ALL.filter((d) => !d.inPaper),
];

/** The definition of one key, or an error listing the known keys. */
export function metricByKey(key: string): MetricDefinition {
  const d = BY_KEY.get(key);
  if (d === undefined) {
    throw new Error(`unknown metric key "${key}"; known keys: ${METRICS.map((m) => m.key).join(", ")}`);
  }
  return d;
}

/**
 * The direction of a metric key: the one table of directions (each definition's `direction`), read by every
 * direction-aware count — the report's collapse verdict and the notebooks' views alike. Undefined for keys not
 * in the registry.
 */
export function metricDirection(key: string): MetricDirection | undefined {
  return BY_KEY.get(key)?.direction;
}

/** Named selections accepted wherever metrics are chosen. */
export const METRIC_SELECTIONS = {
  /** The paper's 20 keys. */
  paper: () => METRICS.filter((d) => d.inPaper),
  /** The paper's keys that depend on the text alone (no model, no random draws): 8 keys, reproducible exactly. */
  deterministic: () => METRICS.filter((d) => d.inPaper && !d.needsEmbeddings && !d.stochastic),
  /** Every key, the paper's and this project's. */
  all: () => METRICS,
  /** This project's additions only. */
  extras: () => METRICS.filter((d) => !d.inPaper),
} as const;

/** Resolves `"all" | "paper" | "deterministic" | "extras" | "key1,key2,…"` (selections may be mixed with keys). */
export function selectMetrics(spec: string): MetricDefinition[] {
  const chosen = new Map<string, MetricDefinition>();
  for (const part of spec.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
    const selection = (METRIC_SELECTIONS as Record<string, () => readonly MetricDefinition[]>)[part];
    for (const d of selection ? selection() : [metricByKey(part)]) chosen.set(d.key, d);
  }
  if (chosen.size === 0) throw new Error(`no metrics selected by "${spec}"`);
  // Keep registry order regardless of the order given.
  return METRICS.filter((d) => chosen.has(d.key));
}
