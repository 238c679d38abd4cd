/**
 * Numbers read from a model's config.json, where architectures name the same setting differently
 * (`num_hidden_layers` / `n_layer`, `hidden_size` / `n_embd`, …).
 * @module
 */

/** The first of `keys` that config.json gives as a number; undefined when none is. */
export function configNumber(config: Record<string, unknown>, ...keys: string[]): number | undefined {
  for (const k of keys) if (typeof config[k] === "number") return config[k] as number;
  return undefined;
}
