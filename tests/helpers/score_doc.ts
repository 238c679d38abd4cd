/**
 * A complete, valid `score/1` document for tests that build score files by hand (figures, bundles): every field
 * the schema requires, with neutral values, and the test's own fields laid over it.
 */

/** A valid `score/1` document with `fields` laid over the neutral defaults (nested `paper_compat` merged). */
export function scoreDoc(fields: Record<string, unknown>): Record<string, unknown> {
  const cdf = (fields.cdf as object | undefined) ?? { ranks: [1], cumulative: [1] };
  const paper = (fields.paper_compat as Record<string, unknown> | undefined) ?? {};
  return {
    format: "score/1",
    created: "2026-12-05T00:00:00.000Z",
    complete: true,
    model: { source: "model" },
    base: null,
    data: { path: "corpus.jsonl", bytes: 1, sha256: "0".repeat(64) },
    settings: { max_seq_len: 64, context_len: 1, prefix_token: 0, max_docs: null, doc_indices: null },
    skipped: { lines: 0, reasons: [] },
    provenance: { toolkit_version: "test", runtime: "test", elapsed_seconds: 0, resumed_from_documents: 0 },
    mean_distribution_file: "model.meandist.npy",
    documents: 1,
    tokens: 1,
    bytes: 1,
    perplexity: 1,
    bits_per_byte: 0,
    mean_entropy: 0,
    mean_confidence: 1,
    doc_mean_confidence: 1,
    accuracy: 1,
    effective_vocab: 1,
    vocab_mass_fraction: { "0.7": 0, "0.9": 0 },
    vocab: 1,
    empty_documents: 0,
    cdf,
    entropy_histogram: { lower: 0, upper: 1, counts: [1] },
    confidence_histogram: { lower: 0, upper: 1, counts: [1] },
    calibration: [],
    ece: 0,
    per_document: [],
    ...fields,
    paper_compat: {
      first_doc_entropy: 0,
      first_doc_index: 0,
      doc_mean_confidence_all_rows: 1,
      mean_entropy_all_rows: 0,
      mean_confidence_all_rows: 1,
      rows: 1,
      windows: 1,
      vocab_mass_fraction: { "0.7": 0, "0.9": 0 },
      effective_vocab: 1,
      cdf,
      ...paper,
    },
  };
}
