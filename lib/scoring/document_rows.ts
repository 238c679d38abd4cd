/**
 * Per-document summaries of a corpus accumulator: the finalised {@link DocumentRow}, and the growable float64
 * columns (sums per committed document) it is computed from, which the accumulator serialises column by column.
 * @module
 */

/** One document's summary (scored positions only). */
export interface DocumentRow {
  /** Index of the document in the corpus stream. */
  docIndex: number;
  /** Scored positions (= the document's tokens). */
  tokens: number;
  /** UTF-8 bytes of the document's text. */
  bytes: number;
  /** Σ ln p(target) in nats. */
  sumLogprobNats: number;
  /** Mean entropy in nats. */
  meanEntropyNats: number;
  /** Mean max-probability. */
  meanConfidence: number;
  /** Share of positions whose argmax is the target. */
  accuracy: number;
  /** exp(−sumLogprobNats / tokens). */
  perplexity: number;
}

/** The columns kept per committed document (sums over its scored positions), in serialisation order. */
export const DOC_COLUMNS = [
  "docIndex",
  "tokens",
  "bytes",
  "sumLogprobNats",
  "sumEntropyNats",
  "sumConfidence",
  "correct",
] as const;
/** One of {@link DOC_COLUMNS}. */
export type DocColumn = typeof DOC_COLUMNS[number];

/** Growable float64 columns, one entry per committed document. */
export class DocumentColumns {
  /** Documents held. */
  count = 0;
  /** The columns; entries past `count` are spare capacity. */
  cols: Record<DocColumn, Float64Array>;
  constructor(capacity = 64) {
    this.cols = Object.fromEntries(DOC_COLUMNS.map((c) => [c, new Float64Array(capacity)])) as Record<
      DocColumn,
      Float64Array
    >;
  }
  /** Appends one document's values. */
  push(values: Record<DocColumn, number>): void {
    if (this.count === this.cols.docIndex.length) {
      for (const c of DOC_COLUMNS) {
        const grown = new Float64Array(this.count * 2);
        grown.set(this.cols[c]);
        this.cols[c] = grown;
      }
    }
    for (const c of DOC_COLUMNS) this.cols[c][this.count] = values[c];
    this.count++;
  }
  /** Document `i`'s values. */
  get(i: number): Record<DocColumn, number> {
    return Object.fromEntries(DOC_COLUMNS.map((c) => [c, this.cols[c][i]])) as Record<DocColumn, number>;
  }
}
