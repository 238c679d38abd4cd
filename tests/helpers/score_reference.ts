/**
 * The corpus statistics of a float64 PyTorch reference (`reference.json` of a model fixture, made by the tools/
 * fixture generators), as the scoring tests read them.
 */

/** One model's corpus statistics in a fixture's reference.json. */
export interface RefCorpus {
  tokens: number;
  documents_scored: number;
  utf8_bytes: number;
  perplexity: number;
  bits_per_byte: number;
  mean_entropy: number;
  mean_confidence: number;
  mean_confidence_doc_weighted: number;
  accuracy: number;
  mean_distribution: { effective_vocab: number; vocab_fraction_70: number; vocab_fraction_90: number };
  mean_kl_from_base?: number;
  mean_js_with_base?: number;
  argmax_changed_share?: number;
}
