/**
 * Python's `math.fsum`: the correctly rounded sum of floats (Shewchuk's algorithm, as CPython implements it).
 * NLTK's BLEU adds its log-precisions with it, so the last bit of self-BLEU depends on it.
 * @module
 */

/**
 * Adds finite `x` to Shewchuk's list of non-overlapping partials, exactly (in place): afterwards the partials sum
 * exactly to the old sum plus `x`. The building block of {@link fsum} and of exact running sums.
 */
export function growPartials(partials: number[], x: number): void {
  let i = 0;
  for (let j = 0; j < partials.length; j++) {
    let y = partials[j];
    if (Math.abs(x) < Math.abs(y)) [x, y] = [y, x];
    const hi = x + y;
    const lo = y - (hi - x);
    if (lo !== 0) partials[i++] = lo;
    x = hi;
  }
  partials.length = i;
  if (x !== 0) partials.push(x);
}

/** Correctly rounded sum of `values`, bit-identical to CPython's `math.fsum` for finite inputs. */
export function fsum(values: Iterable<number>): number {
  const partials: number[] = [];
  let special = 0; // sum of non-finite inputs, which CPython handles separately
  for (const x of values) {
    if (!Number.isFinite(x)) {
      special += x;
      continue;
    }
    growPartials(partials, x);
  }
  if (special !== 0 || Number.isNaN(special)) return special;
  // Sum the partials from the top, correcting the final rounding as CPython does (round-half-even across partials).
  let n = partials.length;
  let hi = 0;
  if (n > 0) {
    hi = partials[--n];
    let lo = 0;
    while (n > 0) {
      const x = hi;
      const y = partials[--n];
      hi = x + y;
      const yr = hi - x;
      lo = y - yr;
      if (lo !== 0) break;
    }
    if (n > 0 && ((lo < 0 && partials[n - 1] < 0) || (lo > 0 && partials[n - 1] > 0))) {
      const y = lo * 2;
      const x = hi + y;
      const yr = x - hi;
      if (y === yr) hi = x;
    }
  }
  return hi;
}
