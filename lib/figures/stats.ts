/**
 * The summary statistics behind the diversity figures: mean over prompts and its standard error, as the
 * paper's notebooks computed them (docs/PAPER_QUIRKS.md, standard-error bands): mean, population standard
 * deviation (numpy's default ddof = 0) and SE = std / √n; bands are mean ± 2·SE. Computed in float64.
 * @module
 */

/**
 * NaN handling: `"omit"` = numpy's nanmean/nanstd with n = number of finite values (the Pythia and fine-tune
 * notebooks); `"propagate"` = plain np.mean/np.std, any NaN makes the result NaN and n = all values (the Llama
 * notebook).
 */
export type NanPolicy = "omit" | "propagate";

/** Mean, standard deviation and standard error of one set of values. */
export interface MeanSe {
  mean: number;
  /** Standard deviation with the requested ddof. */
  std: number;
  /** std / √n. */
  se: number;
  /** Values counted. */
  n: number;
}

/** Options of {@link meanAndStandardError}. */
export interface MeanSeOptions {
  /** Delta degrees of freedom of the std (default 0, numpy's default, as the original). */
  ddof?: number;
  /** Default "omit". */
  nan?: NanPolicy;
}

/** Mean, std (ddof) and SE = std/√n of `values`; NaN where undefined (no values, or n ≤ ddof for std/SE). */
export function meanAndStandardError(values: ArrayLike<number>, options: MeanSeOptions = {}): MeanSe {
  const ddof = options.ddof ?? 0;
  const nan = options.nan ?? "omit";
  const xs: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isNaN(v)) {
      if (nan === "propagate") return { mean: NaN, std: NaN, se: NaN, n: values.length };
      continue;
    }
    xs.push(v);
  }
  const n = xs.length;
  if (n === 0) return { mean: NaN, std: NaN, se: NaN, n: 0 };
  let sum = 0;
  for (const x of xs) sum += x;
  const mean = sum / n;
  let ss = 0;
  for (const x of xs) ss += (x - mean) * (x - mean);
  const std = n - ddof > 0 ? Math.sqrt(ss / (n - ddof)) : NaN;
  return { mean, std, se: std / Math.sqrt(n), n };
}
